using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using HpcCnn.Cpu;
using HpcCnn.Interop;

namespace HpcCnn.Tests;

public partial class LifetimeAndInteropTests
{
    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint getenv(string name);

    /// <summary>
    /// Loading the library leaves the process environment as it was: OMP_WAIT_POLICY=PASSIVE is set
    /// only while libgomp loads (so its workers sleep instead of spinning), then removed.
    /// </summary>
    [SkippableFact]
    public void Loading_the_library_leaves_the_environment_as_it_was()
    {
        Skip.If(Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") is not null || Environment.GetEnvironmentVariable("GOMP_SPINCOUNT") is not null,
            "the environment sets an OpenMP wait policy, which the library respects");
        TestBackends.Cpu.Value.ToString(); // loads the library
        Assert.Equal(0, getenv("OMP_WAIT_POLICY"));
    }

    public static IEnumerable<object[]> Backends() => [[Backend.Reference], [TestBackends.Cpu.Value]];

    [Theory]
    [MemberData(nameof(Backends))]
    public void Dispose_is_idempotent_and_use_after_dispose_throws(Backend backend)
    {
        var conv = backend.CreateConvPlan(ConvProblem.Parse("mb1ic1ih3oc1kh1"), [1f]);
        var pool = backend.CreatePoolPlan(PoolProblem.Parse("mb1ic1ih4kh2"));
        conv.Run(new float[9], new float[9]);
        conv.Dispose();
        conv.Dispose();
        pool.Dispose();
        pool.Dispose();
        Assert.True(conv.IsDisposed && pool.IsDisposed);
        Assert.Throws<ObjectDisposedException>(() => conv.Run(new float[9], new float[9]));
        Assert.Throws<ObjectDisposedException>(() => pool.Run(new float[16], new float[4]));
        Assert.NotEmpty(conv.Algorithm); // what the plan chose stays readable after dispose
    }

    [Fact]
    public void Plans_report_the_chosen_algorithm_and_isa()
    {
        var problem = ConvProblem.Parse("mb1ic8ih8oc8kh3ph1");
        using var generic = TestBackends.CpuGeneric.Value.CreateConvPlan(problem, new float[problem.WeightsLength]);
        Assert.Equal(("direct_generic", "generic"), (generic.Algorithm, generic.Isa));
        Assert.Contains("direct_generic", generic.ToString());
        using var best = TestBackends.Cpu.Value.CreateConvPlan(problem, new float[problem.WeightsLength]);
        Assert.Equal(NativeLibraryInfo.BestIsa, best.Isa);
        Assert.EndsWith(best.Isa, best.Algorithm);
    }

    [Fact]
    public void Native_library_reports_version_path_and_threads()
    {
        Assert.Matches(@"^\d+\.\d+\.\d+$", NativeLibraryInfo.Version);
        Assert.StartsWith("path=", NativeLibraryInfo.CpuFeatures);
        Assert.True(File.Exists(NativeLibraryInfo.LoadedFrom), NativeLibraryInfo.LoadedFrom);
        Assert.True(NativeLibraryInfo.DefaultThreads >= 1);
        Assert.Equal(Environment.ProcessorCount, TestBackends.Cpu.Value.Threads); // respects affinity and CPU quotas
    }

    [Fact]
    public void Failed_load_lists_each_path_and_why()
    {
        var notALibrary = Path.Combine(Path.GetTempPath(), $"hpccnn-not-a-library-{Environment.ProcessId}.so");
        File.WriteAllText(notALibrary, "not an ELF file");
        try
        {
            var missing = Path.Combine(Path.GetTempPath(), "no-such-dir", "libhpccnn.so");
            var error = Assert.Throws<DllNotFoundException>(() => NativeLibraryLoader.Load([missing, notALibrary]));
            Assert.Contains($"{missing}: no such file", error.Message);
            Assert.Contains($"{notALibrary}: ", error.Message);
            Assert.Contains(NativeLibraryLoader.OverrideVariable, error.Message);
        }
        finally
        {
            File.Delete(notALibrary);
        }
    }

    /// <summary>The generated structs must have the layout the C compiler gave them (BindGen records it).</summary>
    [Fact]
    public void Generated_structs_match_the_C_layout()
    {
        Assert.NotEmpty(NativeLayout.Structs);
        foreach (var (name, size, fields) in NativeLayout.Structs)
        {
            var type = typeof(NativeMethods).Assembly.GetType($"HpcCnn.Interop.{name}", throwOnError: true)!;
            Assert.Equal(size, Marshal.SizeOf(type));
            Assert.Equal(size, (int)typeof(Unsafe).GetMethod(nameof(Unsafe.SizeOf))!.MakeGenericMethod(type).Invoke(null, null)!);
            foreach (var (field, offset) in fields)
                Assert.Equal(offset, (int)Marshal.OffsetOf(type, field));
        }
    }
}

/// <summary>The library's EventSource reports each plan with what it chose.</summary>
public class EventSourceTests
{
    private sealed class Recorder : System.Diagnostics.Tracing.EventListener
    {
        public readonly System.Collections.Concurrent.ConcurrentQueue<IReadOnlyList<object?>> Created = new();

        protected override void OnEventSourceCreated(System.Diagnostics.Tracing.EventSource source)
        {
            if (source.Name == "HpcCnn") EnableEvents(source, System.Diagnostics.Tracing.EventLevel.Informational);
        }

        protected override void OnEventWritten(System.Diagnostics.Tracing.EventWrittenEventArgs e)
        {
            if (e.EventId == HpcCnnEventSource.PlanCreatedId && e.Payload is not null) Created.Enqueue(e.Payload.ToList());
        }
    }

    [Fact]
    public void Plan_creation_is_logged_with_the_chosen_algorithm()
    {
        using var recorder = new Recorder();
        var problem = ConvProblem.Parse("mb1ic5ih7oc3kh3ph1");
        using var plan = TestBackends.Cpu.Value.CreateConvPlan(problem, new float[problem.WeightsLength]);
        var logged = recorder.Created.FirstOrDefault(p => (string?)p[2] == plan.ToString());
        Assert.NotNull(logged);
        Assert.Equal("cpu", logged[0]);
        Assert.Equal("FWD_I", logged[1]);
        Assert.Equal(plan.Algorithm, logged[3]);
        Assert.Equal(plan.Isa, logged[4]);
        Assert.True((double)logged[5]! >= 0);
    }
}
