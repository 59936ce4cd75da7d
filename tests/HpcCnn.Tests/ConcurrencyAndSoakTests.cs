using System.Diagnostics;
using Xunit.Abstractions;

namespace HpcCnn.Tests;

/// <summary>
/// How plans behave inside a host's threads and over a long life: one plan run from 8 threads at
/// once gives the serial bits on every backend; disposing a plan that another thread is running is
/// safe (the run finishes, later runs throw ObjectDisposedException); creating and disposing many
/// plans, or dropping them to the finalizer, leaves memory flat.
/// </summary>
[Collection(nameof(ProcessWideState))]
public class ConcurrencyAndSoakTests(ITestOutputHelper output)
{
    private const int Threads = 8;

    public static readonly TheoryData<string> BackendNames = new() { "reference", "cpu", "opencl" };

    private static Backend Named(string name) => name switch
    {
        "reference" => Backend.Reference,
        "cpu" => TestBackends.Cpu.Value,
        _ => TestBackends.OpenCl(),
    };

    private static float[] Values(long length, int seed) => Fill.Values(length, FillKind.Real, new Random(seed));

    /// <summary>Runs <paramref name="work"/>(thread, round) on 8 threads released together, 10 rounds each.</summary>
    private static void OnEightThreads(Action<int> work)
    {
        using var start = new Barrier(Threads);
        var failures = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        var threads = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            try
            {
                start.SignalAndWait();
                for (var round = 0; round < 10; round++) work(t);
            }
            catch (Exception e)
            {
                failures.Enqueue(e);
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        if (!failures.IsEmpty) throw new AggregateException(failures);
    }

    [SkippableTheory]
    [MemberData(nameof(BackendNames))]
    public void One_plan_run_from_eight_threads_gives_the_serial_bits(string backendName)
    {
        var backend = Named(backendName);
        var conv = ConvProblem.Parse("mb2ic8ih12oc16kh3ph1");
        using var forward = backend.CreateConvPlan(conv, Values(conv.WeightsLength, 1), Values(conv.OutChannels, 2));
        using var weights = backend.CreateConvPlan(conv with { Direction = Direction.BackwardWeightsAndBias });
        var pool = PoolProblem.Parse("--alg=max mb2ic16ih12kh3sh2ph1") with { Direction = Direction.ForwardTraining };
        using var poolPlan = backend.CreatePoolPlan(pool);

        var inputs = Enumerable.Range(0, Threads).Select(t => Values(conv.InputLength, 10 + t)).ToArray();
        var diffs = Enumerable.Range(0, Threads).Select(t => Values(conv.OutputLength, 20 + t)).ToArray();
        var expectedY = new float[Threads][];
        var expectedDw = new float[Threads][];
        var expectedPool = new float[Threads][];
        var expectedArgmax = new int[Threads][];
        for (var t = 0; t < Threads; t++)
        {
            expectedY[t] = new float[conv.OutputLength];
            forward.Forward(inputs[t], expectedY[t]);
            expectedDw[t] = new float[conv.WeightsLength + conv.OutChannels];
            weights.BackwardWeights(inputs[t], diffs[t], expectedDw[t].AsSpan(0, (int)conv.WeightsLength), expectedDw[t].AsSpan((int)conv.WeightsLength));
            expectedPool[t] = new float[pool.OutputLength];
            expectedArgmax[t] = new int[pool.OutputLength];
            poolPlan.Forward(expectedY[t], expectedPool[t], expectedArgmax[t]);
        }

        OnEightThreads(t =>
        {
            var y = new float[conv.OutputLength];
            forward.Forward(inputs[t], y);
            Assert.Equal(expectedY[t], y);
            var dw = new float[conv.WeightsLength + conv.OutChannels];
            weights.BackwardWeights(inputs[t], diffs[t], dw.AsSpan(0, (int)conv.WeightsLength), dw.AsSpan((int)conv.WeightsLength));
            Assert.Equal(expectedDw[t], dw);
            var pooled = new float[pool.OutputLength];
            var argmax = new int[pool.OutputLength];
            poolPlan.Forward(y, pooled, argmax);
            Assert.Equal(expectedPool[t], pooled);
            Assert.Equal(expectedArgmax[t], argmax);
        });
    }

    [SkippableTheory]
    [MemberData(nameof(BackendNames))]
    public void Disposing_a_plan_while_threads_run_it_is_safe(string backendName)
    {
        var backend = Named(backendName);
        var conv = ConvProblem.Parse("mb4ic16ih24oc16kh3ph1");
        var w = Values(conv.WeightsLength, 1);
        var x = Values(conv.InputLength, 2);
        var expected = new float[conv.OutputLength];
        using (var reference = backend.CreateConvPlan(conv, w)) reference.Forward(x, expected);
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var plan = backend.CreateConvPlan(conv, w);
            var finished = 0;
            var disposedSeen = 0;
            using var start = new Barrier(Threads + 1);
            var threads = Enumerable.Range(0, Threads).Select(_ => new Thread(() =>
            {
                var y = new float[conv.OutputLength];
                start.SignalAndWait();
                for (var round = 0; round < 200; round++)
                {
                    try
                    {
                        plan.Forward(x, y);
                        Assert.Equal(expected, y); // a run that started finishes with the right result
                        Interlocked.Increment(ref finished);
                    }
                    catch (ObjectDisposedException)
                    {
                        Interlocked.Increment(ref disposedSeen);
                        return;
                    }
                }
            })).ToList();
            threads.ForEach(t => t.Start());
            start.SignalAndWait();
            Thread.Sleep(attempt); // dispose at different points of the runs
            plan.Dispose();
            threads.ForEach(t => t.Join());
            Assert.Throws<ObjectDisposedException>(() => plan.Forward(x, new float[conv.OutputLength]));
            output.WriteLine($"attempt {attempt}: {finished} runs finished, {disposedSeen} threads saw the dispose");
        }
    }

    private static long ResidentBytes()
    {
        // /proc/self/statm: pages resident in the second field.
        var fields = File.ReadAllText("/proc/self/statm").Split(' ');
        return long.Parse(fields[1]) * Environment.SystemPageSize;
    }

    private static long SettledResidentBytes()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return ResidentBytes();
    }

    private long Cycle(Backend backend, int cycles, bool dispose)
    {
        var conv = ConvProblem.Parse("mb1ic3ih16oc8kh3ph1");
        var pool = PoolProblem.Parse("--alg=max mb1ic8ih16kh2sh2");
        var w = Values(conv.WeightsLength, 1);
        var x = Values(conv.InputLength, 2);
        var y = new float[conv.OutputLength];
        var pooled = new float[pool.OutputLength];
        for (var i = 0; i < cycles; i++)
        {
            var plan = backend.CreateConvPlan(conv, w);
            var poolPlan = backend.CreatePoolPlan(pool);
            plan.Forward(x, y);
            poolPlan.Forward(y, pooled);
            if (dispose)
            {
                plan.Dispose();
                poolPlan.Dispose();
            }
        }
        return SettledResidentBytes();
    }

    /// <summary>Memory after the second half of the cycles against after the first: flat, not growing with the count.</summary>
    private void AssertFlat(Backend backend, int cycles, bool dispose, long allowedGrowth)
    {
        // AddressSanitizer keeps freed memory in a quarantine of up to 256 MiB: resident memory
        // grows by design there (.ci/sanitizers preloads it), so it says nothing about leaks.
        Skip.If(Environment.GetEnvironmentVariable("LD_PRELOAD")?.Contains("libasan", StringComparison.Ordinal) == true,
            "resident memory is not measured under AddressSanitizer (its quarantine holds freed memory)");
        Cycle(backend, cycles / 10, dispose); // warm: thread pools, program caches, the allocator's arenas
        var before = SettledResidentBytes();
        var watch = Stopwatch.StartNew();
        var half = Cycle(backend, cycles / 2, dispose);
        var after = Cycle(backend, cycles / 2, dispose);
        output.WriteLine($"{backend.Name}, {cycles} plan pairs {(dispose ? "disposed" : "left to the finalizer")}: RSS {before >> 20} MiB before, " +
                         $"{half >> 20} MiB half way, {after >> 20} MiB after ({watch.Elapsed.TotalSeconds:F1} s)");
        Assert.True(after - before < allowedGrowth, $"RSS grew from {before >> 20} to {after >> 20} MiB over {cycles} cycles");
    }

    [SkippableFact]
    public void Cpu_plans_created_and_disposed_100000_times_leave_memory_flat() =>
        AssertFlat(TestBackends.Cpu.Value, 100_000, dispose: true, allowedGrowth: 32 << 20);

    [SkippableFact]
    public void Cpu_plans_never_disposed_are_released_by_their_finalizers() =>
        AssertFlat(TestBackends.Cpu.Value, 100_000, dispose: false, allowedGrowth: 64 << 20);

    [SkippableFact]
    public void OpenCl_plans_created_and_disposed_5000_times_leave_memory_flat() =>
        AssertFlat(TestBackends.OpenCl(), 5_000, dispose: true, allowedGrowth: 64 << 20);
}

/// <summary>
/// Tests that read or change process-wide state (resident memory, the working directory,
/// Console.Out) run alone, not beside other tests.
/// </summary>
[CollectionDefinition(nameof(ProcessWideState), DisableParallelization = true)]
public sealed class ProcessWideState;
