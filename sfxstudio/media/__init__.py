"""Media layer: video probe and frame streams, audio decode, sound library, render/mix, exports."""
