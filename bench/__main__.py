"""`python -m bench`: the benchmark suite (see `bench.suite`), with this process pinned to one BLAS/OpenMP thread."""

from bench.threads import pin

pin()  # before numpy or torch are imported

from bench.suite import main  # noqa: E402

raise SystemExit(main())
