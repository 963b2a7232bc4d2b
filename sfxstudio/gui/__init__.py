"""The PySide6 interface: main window, Qt workers and views.

Nothing heavy is imported here: `sfxstudio.gui.app.run` must show a window within two seconds,
so TensorFlow and the pipeline's model code load only when an analysis starts.
"""
