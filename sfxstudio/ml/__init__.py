"""ML layer: model bundles, backbones, batched inference, training, evaluation.

Where things are: bundle_file (bundle.json: the one reader, validator and writer), keras_file
(model.keras checked and loaded in safe mode), kinds (the table of bundle kinds), bundle
(ModelBundle and save_bundle; the "keras" kind), imagenet and zeroshot (the other kinds),
registry (the model list the window and `model list` show), lite (the CPU runtime), teach /
teach_data / teach_head (learn from my corrections), train, evaluate, backbones.

TensorFlow/Keras are imported lazily inside functions so that importing this package is cheap.
"""
