"""Domain layer: classes, project model, segments, edit commands, project files. Qt-free."""
