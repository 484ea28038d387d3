import sys

from tangtui.cli import main

sys.exit(main())
