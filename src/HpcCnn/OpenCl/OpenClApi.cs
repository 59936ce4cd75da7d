using Silk.NET.OpenCL;

namespace HpcCnn.OpenCl;

/// <summary>The process-wide Silk.NET binding of libOpenCL.so.1 and the status check every call goes through.</summary>
internal static class OpenClApi
{
    private static readonly Lazy<CL> Api = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    public const string InstallHint =
        "install an OpenCL driver: on Debian/Ubuntu `apt-get install ocl-icd-libopencl1 pocl-opencl-icd` (CPU) or a GPU vendor's ICD";

    /// <exception cref="OpenClUnavailableException">No OpenCL loader is installed.</exception>
    public static CL Cl => Api.Value;

    private static CL Load()
    {
        try
        {
            return CL.GetApi();
        }
        catch (Exception e) when (e is FileNotFoundException or DllNotFoundException)
        {
            throw new OpenClUnavailableException($"no OpenCL loader (libOpenCL.so.1): {InstallHint}", e);
        }
    }

    /// <summary>Throws <see cref="OpenClException"/> naming the call and the error code unless status is success.</summary>
    public static void Check(int status, string call)
    {
        if (status != 0) throw new OpenClException(call, status);
    }
}
