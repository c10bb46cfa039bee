from torchref.report.cli import main

raise SystemExit(main())
