using HpcCnn.Cpu;
using HpcCnn.OpenCl;

using System.Diagnostics;

namespace HpcCnn.Tests;

/// <summary>The backends every cross-backend test runs on (all but the oracle).</summary>
internal static class TestBackends
{
    /// <summary>
    /// The native backend must load wherever the tests run: `dotnet build` builds it, so a load
    /// failure is a real failure, not a reason to skip.
    /// </summary>
    public static readonly Lazy<CpuBackend> Cpu = new(() => new CpuBackend());

    /// <summary>The native backend held to the portable C path, so every ISA path runs on one machine.</summary>
    public static readonly Lazy<CpuBackend> CpuGeneric = new(() => new CpuBackend(new CpuBackendOptions { MaxIsa = CpuIsa.Generic }));

    /// <summary>The native backend held to AVX2, which the AVX-512 path would otherwise hide.</summary>
    public static readonly Lazy<CpuBackend> CpuAvx2 = new(() => new CpuBackend(new CpuBackendOptions { MaxIsa = CpuIsa.Avx2 }));

    /// <summary>
    /// Every native code path this machine can run: the best one, AVX2 where AVX-512 is better,
    /// and the portable C path.
    /// </summary>
    public static IEnumerable<Backend> UnderTest()
    {
        yield return Cpu.Value;
        if (NativeLibraryInfo.BestIsa == "avx512") yield return CpuAvx2.Value;
        if (NativeLibraryInfo.BestIsa != "generic") yield return CpuGeneric.Value;
    }

    private static readonly Lazy<(OpenClBackend? Backend, string? Reason)> OpenClDevice = new(() =>
    {
        try
        {
            return (new OpenClBackend(), null);
        }
        catch (OpenClUnavailableException e)
        {
            return (null, e.Message);
        }
    });

    /// <summary>True when the CI variable is set: CI installs PoCL, so OpenCL tests must run there, never skip.</summary>
    public static bool UnderCi => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI"));

    /// <summary>
    /// The OpenCL backend on the default device (shared by the tests, never disposed). Without an
    /// OpenCL platform the calling [SkippableFact] is skipped with the reason, except under CI,
    /// where that is a failure.
    /// </summary>
    public static OpenClBackend OpenCl()
    {
        var (backend, reason) = OpenClDevice.Value;
        if (backend is not null) return backend;
        if (UnderCi) throw new InvalidOperationException($"CI is set, so OpenCL tests must run, but OpenCL is unavailable: {reason}");
        Skip.If(true, $"no OpenCL platform on this machine ({reason})");
        throw new UnreachableException();
    }

    private static readonly Lazy<OpenClBackend[]> OpenClStyles = new(() =>
    [
        new OpenClBackend(new OpenClBackendOptions { KernelStyle = OpenClKernelStyle.Cpu }),
        new OpenClBackend(new OpenClBackendOptions { KernelStyle = OpenClKernelStyle.Gpu }),
    ]);

    /// <summary>
    /// The OpenCL backend once per kernel style, so the CPU-shaped and the GPU-shaped kernels
    /// (vector widths, convolution kernels, padding kernels, work-group sizes) both run on
    /// whatever device there is. Skips or fails as <see cref="OpenCl"/> does.
    /// </summary>
    public static IReadOnlyList<Backend> OpenClForEveryKernelStyle()
    {
        OpenCl();
        return OpenClStyles.Value;
    }

    /// <summary>
    /// Every native code path and, where there is an OpenCL platform, the OpenCL backend in both
    /// kernel styles; without one, the reason it is missing (under CI that is a failure instead).
    /// </summary>
    public static (IReadOnlyList<Backend> Backends, string? OpenClMissing) Everything()
    {
        var backends = UnderTest().ToList();
        var (openCl, reason) = OpenClDevice.Value;
        if (openCl is null && UnderCi) throw new InvalidOperationException($"CI is set, so OpenCL tests must run, but OpenCL is unavailable: {reason}");
        if (openCl is not null) backends.AddRange(OpenClStyles.Value);
        return (backends, reason);
    }

    public static IReadOnlyList<Problem> Suite(string fileName) =>
        ProblemSuite.Read(Path.Combine(AppContext.BaseDirectory, "problems", fileName));

    /// <summary>Integer fill (bit-exact where the computation is) and real fill (tolerance rule), every backend against one oracle run each.</summary>
    public static void Check(Problem problem, int seed, IEnumerable<Backend> backends)
    {
        var list = backends.ToList();
        AssertAllPassed(CrossCheck.Run(list, problem, FillKind.SmallIntegers, seed).Concat(CrossCheck.Run(list, problem, FillKind.Real, seed)));
    }

    /// <summary>Fails with every failing check's replay line.</summary>
    public static void AssertAllPassed(IEnumerable<CheckResult> results)
    {
        var failures = results.Where(r => !r.Passed).Select(r => r.Describe()).ToList();
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }
}
