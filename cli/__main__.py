"""``python -m scapkit.cli``: the same as the ``scap`` command."""

from scapkit.cli.main import main

main()
