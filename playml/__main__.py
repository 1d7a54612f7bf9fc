from playml.cli import main

raise SystemExit(main())
