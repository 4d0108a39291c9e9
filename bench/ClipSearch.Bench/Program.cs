using BenchmarkDotNet.Running;
using ClipSearch.Bench;

// `pipeline …`, `fastpath …` and `formats …` are end-to-end measurements printing one JSON line; anything else goes to
// BenchmarkDotNet's micro-benchmarks (e.g. `--filter *Resize*`).
return args.FirstOrDefault() switch
{
    "pipeline" => await PipelineBench.RunAsync(args[1..]),
    "fastpath" => FastPathBench.Run(args[1..]),
    "split" => SplitBench.Run(args[1..]),
    "zeroshot" => ZeroShotBench.Run(args[1..]),
    "formats" => FormatsBench.Run(args[1..]),
    _ => RunMicro(args),
};

static int RunMicro(string[] args)
{
    BenchmarkSwitcher.FromAssembly(typeof(PipelineBench).Assembly).Run(args);
    return 0;
}
