using System.Runtime.InteropServices;
using HpcCnn.Interop;
using HpcCnn.Problems;

namespace HpcCnn.Tests;

/// <summary>
/// Problems that pass validation but once crashed the process, exhausted memory or wrapped a size
/// (issue 12, found by probes and the fuzzer in native/fuzz). Each must give the oracle's result
/// with memory sized by what it reads, or be refused with an ArgumentException; never a crash.
/// </summary>
public class HostileInputTests
{
    public static readonly TheoryData<string> ExtremeStrides = new()
    {
        // Depthwise-eligible; the workspace size wrapped and fill_plane wrote past it (SIGSEGV).
        "mb1ic1ih16iw16oc1kh2kw1sh1048576sw2147483647ph2147483647pw1",
        // The separable pooling path's scratch grew with the stride: 28 s and 8 GiB for one output.
        "--pool --alg=max mb1ic1ih3kh3sh2147483647ph1",
        // The GEMM path's window grew with the width stride: 2.3 GB, then out of memory.
        "mb1ic1ih3iw3oc1kh3kw3ph1pw1sw100000000",
        "mb1ic1ih3iw3oc1kh3kw3ph1pw1sw2147483647",
        // OpenCL narrowed the padded height (4294967297) to int unchecked, then refused it: now read in place.
        "mb1ic1ih8iw16oc1kh1kw1sh536870912sw1ph2147483646pw0",
        "--pool --alg=avg_p mb1ic2ih5iw9kh2kw2sh1000000sw3000000ph1pw1",
    };

    [Theory]
    [MemberData(nameof(ExtremeStrides))]
    public void Extreme_strides_give_the_oracles_result_on_every_backend(string descriptor)
    {
        var problem = ProblemSuite.Parse([descriptor]).Single();
        var (backends, _) = TestBackends.Everything();
        foreach (var direction in problem.Operation.Directions)
        {
            var before = Environment.WorkingSet;
            var directed = problem is ConvProblem conv ? conv with { Direction = direction } : (Problem)((PoolProblem)problem with { Direction = direction });
            TestBackends.Check(directed, seed: 1, backends);
            // Scratch is sized by what the outputs read: a few KiB here, not the stride's gigabytes.
            Assert.True(Environment.WorkingSet - before < 256L << 20, $"{directed}: working set grew by {(Environment.WorkingSet - before) >> 20} MiB");
        }
    }

    [SkippableFact]
    public void OpenCl_refuses_a_buffer_beyond_the_devices_largest_allocation_with_an_argument_exception()
    {
        var openCl = TestBackends.OpenCl();
        var largest = openCl.Device.MaxAllocationBytes;
        // Images of 1 x 64 x 64 floats (16 KiB each): enough of them to pass the largest allocation.
        var batch = largest / (64 * 64 * 4) + 1;
        Skip.If(batch * 64 * 64 > int.MaxValue, $"{openCl.Device.Name} allocates {largest} bytes at once, more than a span holds");
        var problem = PoolProblem.Parse($"--alg=max mb{batch}ic1ih64kh2sh2");
        var error = Assert.ThrowsAny<ArgumentException>(() => openCl.CreatePoolPlan(problem).Dispose());
        Assert.Contains("allocates at once", error.Message);
    }

    [Fact]
    public void Lengths_that_would_wrap_are_refused_before_any_kernel_runs()
    {
        var problem = ConvProblem.Parse("mb65537ic193ih22253377iw65536oc193kh1kw1");
        var error = Assert.ThrowsAny<ArgumentException>(() => problem.Validate());
        Assert.Contains("InputLength", error.Message);
        Assert.ThrowsAny<ArgumentException>(() => TestBackends.Cpu.Value.CreateConvPlan(problem));
        Assert.ThrowsAny<ArgumentException>(() => Backend.Reference.CreateConvPlan(problem));
    }

    /// <summary>
    /// Seeded random descriptors mixing small sizes with extreme strides, paddings and dilations:
    /// on every backend each is either refused with an ArgumentException (invalid, or beyond a
    /// backend's limits, e.g. OpenCL's 32-bit indices) or created; those small enough also run and
    /// match the oracle. Any other exception (overflow, out of memory, a crash) fails with the descriptor.
    /// </summary>
    [SkippableFact]
    public void Random_extreme_descriptors_are_run_or_refused_with_an_argument_exception_on_every_backend()
    {
        var (backends, _) = TestBackends.Everything();
        int[] edges = [0, 1, 2, 3, 7, 16, 17, 31, 64, 255, 65535, 65536, 1048576, 536870912, 2147483646, int.MaxValue, -1, int.MinValue];
        var random = new Random(12);
        int Size(int small) => random.Next(4) == 0 ? edges[random.Next(edges.Length)] : random.Next(1, small);
        Direction[] directions = [Direction.ForwardInference, Direction.BackwardData, Direction.BackwardWeightsAndBias];
        int ran = 0, refused = 0;
        for (var i = 0; i < 300; i++)
        {
            Problem problem = i % 2 == 0
                ? new ConvProblem
                {
                    Batch = Size(3), InChannels = Size(5), InHeight = Size(12), InWidth = Size(12), OutChannels = Size(5),
                    KernelHeight = Size(4), KernelWidth = Size(4), StrideHeight = Size(3), StrideWidth = Size(3),
                    PadTop = Size(3) - 1, PadBottom = Size(3) - 1, PadLeft = Size(3) - 1, PadRight = Size(3) - 1,
                    DilationHeight = Size(3), DilationWidth = Size(3), Direction = directions[random.Next(directions.Length)],
                }
                : new PoolProblem
                {
                    Algorithm = (PoolAlgorithm)random.Next(3), Batch = Size(3), Channels = Size(5), InHeight = Size(12), InWidth = Size(12),
                    KernelHeight = Size(4), KernelWidth = Size(4), StrideHeight = Size(3), StrideWidth = Size(3),
                    PadTop = Size(3) - 1, PadBottom = Size(3) - 1, PadLeft = Size(3) - 1, PadRight = Size(3) - 1,
                };
            var valid = true;
            try
            {
                problem.Validate();
            }
            catch (ArgumentException)
            {
                valid = false;
            }
            var small = valid && problem.InputLength <= 1 << 16 && problem.OutputLength <= 1 << 16 &&
                        (problem is not ConvProblem c || c.WeightsLength <= 1 << 14);
            foreach (var backend in backends.Prepend(Backend.Reference))
            {
                try
                {
                    if (small)
                    {
                        TestBackends.AssertAllPassed(CrossCheck.Run(backend, problem, FillKind.SmallIntegers, seed: i));
                        ran++;
                    }
                    else
                    {
                        using Plan plan = problem is ConvProblem conv ? backend.CreateConvPlan(conv) : backend.CreatePoolPlan((PoolProblem)problem);
                        Assert.True(valid, $"{backend.Name} created a plan for {problem}, which is invalid");
                    }
                }
                catch (ArgumentException)
                {
                    refused++;
                }
                catch (Exception e) when (e is not Xunit.Sdk.XunitException)
                {
                    Assert.Fail($"{backend.Name} on {problem}: {e.GetType().Name}: {e.Message}");
                }
            }
        }
        Assert.True(ran > 100 && refused > 100, $"{ran} runs and {refused} refusals: the generator should give plenty of both");
    }

    [Fact]
    public void A_library_without_hc_version_is_refused_by_name()
    {
        var libm = NativeLibrary.Load("libm.so.6");
        try
        {
            var error = Assert.Throws<HpcCnnLibraryMismatchException>(() => NativeLibraryLoader.CheckVersion(libm, "libm.so.6"));
            Assert.Contains("libm.so.6 is not HpcCnn's native library", error.Message);
            Assert.Equal(HpcCnnStatus.Internal, error.Status);
        }
        finally
        {
            NativeLibrary.Free(libm);
        }
    }

    [Fact]
    public void The_native_library_is_this_assemblys_version()
    {
        Assert.Equal(NativeLibraryLoader.ExpectedVersion, Cpu.NativeLibraryInfo.Version);
        Assert.Equal(File.ReadAllText(Path.Combine(RepositoryRoot(), "version.txt")).Trim(), NativeLibraryLoader.ExpectedVersion);
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "version.txt"))) return dir.FullName;
        throw new InvalidOperationException("version.txt not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>The command line takes descriptors that start with options after <c>--</c>, whole.</summary>
public class CommandLineDescriptorTests
{
    [Fact]
    public void A_driver_line_after_the_separator_reaches_the_problem_parser_whole()
    {
        var (exitCode, output) = CliRunner.Run(null, "check", "--backend", "cpu", "--", "--pool --alg=max mb1ic1ih3kh3sh2147483647ph1", "--alg=max mb1ic8ih8kh2sh2");
        Assert.True(exitCode == 0, output);
        Assert.Contains("checks passed (2 problems", output);
    }
}
