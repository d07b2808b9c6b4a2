import multiprocessing

from studio.cli import main

# the frozen app is also the child interpreter of `studio bench hub` (spawned hub process)
multiprocessing.freeze_support()
raise SystemExit(main())
