from doodlepaint.cli import main

raise SystemExit(main())
