"""Modules shipped with PyTake, each a package registered under the `pytake.modules` entry-point
group (pyproject.toml), built on the extension point in core/extensions.py. Third-party modules
register the same way from their own packages; README "Modules"."""
