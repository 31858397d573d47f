// libtorch already uses every core; running test classes side by side only thrashes the 2-core CI machine.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
