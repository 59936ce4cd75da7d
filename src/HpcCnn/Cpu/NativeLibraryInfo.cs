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

    /// <summary>Threads a plan uses when its options say 0.</summary>
    public static int DefaultThreads => Call(() => NativeMethods.hc_default_num_threads());

    private static T Call<T>(Func<T> query)
    {
        NativeLibraryLoader.EnsureLoaded();
        return query();
    }
}
