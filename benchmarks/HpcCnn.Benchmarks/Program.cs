using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using HpcCnn.Benchmarks;

BenchmarkSwitcher.FromAssembly(typeof(ConvBenchmarks).Assembly).Run(args);

namespace HpcCnn.Benchmarks
{
    /// <summary>Ratio to ONNX Runtime (the baseline), medians, and throughput columns.</summary>
    public sealed class SuiteConfig : ManualConfig
    {
        public SuiteConfig()
        {
            AddJob(Job.Default.WithWarmupCount(3).WithIterationCount(10).WithId("suite"));
            AddColumn(StatisticColumn.Median, ThroughputColumn.Gflops, ThroughputColumn.PercentOfPeak, ThroughputColumn.GigabytesPerSecond);
            WithOrderer(new BenchmarkDotNet.Order.DefaultOrderer(BenchmarkDotNet.Order.SummaryOrderPolicy.Declared));
        }
    }
}
