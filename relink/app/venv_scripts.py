
# --- Appended by relink to the embedded stdlib's venv/__init__.py (see STDLIB_EPILOGUES in
# relink/app/payload.py); never imported by relink itself. The stdlib here is a zip inside the executable,
# where setup_scripts' os.walk finds no `scripts` folder: the activate scripts are copied out of the zip
# (importlib.resources) into a temporary folder and installed from there by the usual install_scripts.


def _relink_copy_tree(source, target):
    os.makedirs(target, exist_ok=True)
    for entry in source.iterdir():
        if entry.is_dir():
            _relink_copy_tree(entry, os.path.join(target, entry.name))
        else:
            with open(os.path.join(target, entry.name), 'wb') as f:
                f.write(entry.read_bytes())


def _relink_setup_scripts(self, context, _setup_scripts=EnvBuilder.setup_scripts):
    if os.path.isdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'scripts')):
        return _setup_scripts(self, context)
    import importlib.resources
    import tempfile
    with tempfile.TemporaryDirectory() as folder:
        _relink_copy_tree(importlib.resources.files(__spec__.name) / 'scripts', folder)
        self.install_scripts(context, folder)


_relink_setup_scripts.__doc__ = EnvBuilder.setup_scripts.__doc__
EnvBuilder.setup_scripts = _relink_setup_scripts
