using HpcCnn.Interop;

namespace HpcCnn.Cpu;

/// <summary>What the native library reports about itself and this machine.</summary>
public static unsafe class NativeLibraryInfo
{
    /// <summary>Version of libhpccnn.so, "major.minor.patch".</summary>
    public static string Version => Call(() => NativeStatus.Utf8(NativeMethods.hc_version()));

    /// <summary>The CPU code path the dispatcher chose and the features detected, e.g. "path=generic cpu= avx2 fma".</summary>
    public static string CpuFeatures => Call(() => NativeStatus.Utf8(NativeMethods.hc_cpu_features()));

    /// <summary>The file libhpccnn.so was loaded from.</summary>
    public static string LoadedFrom => Call(() => NativeLibraryLoader.LoadedFrom);

    /// <summary>The best instruction set this CPU supports, capped by HPCCNN_MAX_ISA.</summary>
    public static string BestIsa => Call(() => NativeStatus.Utf8(NativeMethods.hc_isa_string(NativeMethods.hc_best_isa())));

    /// <summary>Threads a plan uses when its options say 0.</summary>
    public static int DefaultThreads => Call(() => NativeMethods.hc_default_num_threads());

    /// <summary>Measures the float32 FMA throughput of <paramref name="threads"/> threads in GFLOP/s (about 0.1 s).</summary>
    public static double MeasureFmaPeak(int threads) => Call(() =>
    {
        double gflops;
        NativeStatus.Check(NativeMethods.hc_measure_fma_peak(threads, &gflops), nameof(NativeMethods.hc_measure_fma_peak));
        return gflops;
    });

    private static T Call<T>(Func<T> query)
    {
        NativeLibraryLoader.EnsureLoaded();
        return query();
    }
}
