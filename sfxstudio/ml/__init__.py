"""ML layer: model bundles, backbones, batched inference, training, evaluation.

TensorFlow/Keras are imported lazily inside functions so that importing this package is cheap.
"""
