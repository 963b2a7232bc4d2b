"""The built-in demo: drawn scenes, a demo video with ground truth, its model and sounds."""
