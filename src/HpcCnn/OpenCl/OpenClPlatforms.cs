using System.Text;
using Silk.NET.OpenCL;

namespace HpcCnn.OpenCl;

/// <summary>An OpenCL device as <c>hpccnn info</c> lists it.</summary>
public sealed record OpenClDeviceInfo(string Name, string Type, string Version, uint ComputeUnits, ulong GlobalMemoryBytes, string Extensions);

/// <summary>An OpenCL platform and its devices.</summary>
public sealed record OpenClPlatformInfo(string Name, string Vendor, string Version, IReadOnlyList<OpenClDeviceInfo> Devices);

/// <summary>The OpenCL platforms on this machine, or why there are none.</summary>
public sealed record OpenClReport(IReadOnlyList<OpenClPlatformInfo> Platforms, string? Unavailable);

/// <summary>Enumerates OpenCL platforms and devices through Silk.NET.OpenCL without creating contexts.</summary>
public static unsafe class OpenClPlatforms
{
    private const int PlatformNotFoundKhr = -1001;

    /// <summary>Never throws: a missing loader or platform is reported in <see cref="OpenClReport.Unavailable"/>.</summary>
    public static OpenClReport Query()
    {
        CL cl;
        try
        {
            cl = CL.GetApi();
        }
        catch (Exception e) when (e is FileNotFoundException or DllNotFoundException)
        {
            return new([], "no OpenCL loader (libOpenCL.so.1): install ocl-icd-libopencl1 and a driver such as pocl-opencl-icd");
        }
        using (cl)
        {
            uint count = 0;
            int status = cl.GetPlatformIDs(0, null, &count);
            if (status == PlatformNotFoundKhr || (status == 0 && count == 0))
                return new([], "the OpenCL loader found no platform: install a driver such as pocl-opencl-icd (CPU) or a GPU vendor's ICD");
            if (status != 0) return new([], $"clGetPlatformIDs failed with {ErrorName(status)}");
            var ids = new nint[count];
            fixed (nint* p = ids) cl.GetPlatformIDs(count, p, null);
            var platforms = ids.Select(id => new OpenClPlatformInfo(
                PlatformString(cl, id, PlatformInfo.Name),
                PlatformString(cl, id, PlatformInfo.Vendor),
                PlatformString(cl, id, PlatformInfo.Version),
                Devices(cl, id))).ToList();
            return new(platforms, null);
        }
    }

    /// <summary>The name of an OpenCL error code, e.g. -5 → OutOfResources.</summary>
    public static string ErrorName(int code) =>
        Enum.IsDefined(typeof(ErrorCodes), code) ? $"{(ErrorCodes)code} ({code})" : $"error {code}";

    private static List<OpenClDeviceInfo> Devices(CL cl, nint platform)
    {
        uint count = 0;
        if (cl.GetDeviceIDs(platform, DeviceType.All, 0, null, &count) != 0 || count == 0) return [];
        var ids = new nint[count];
        fixed (nint* p = ids) cl.GetDeviceIDs(platform, DeviceType.All, count, p, null);
        return ids.Select(id =>
        {
            uint units = 0;
            ulong memory = 0, type = 0;
            cl.GetDeviceInfo(id, DeviceInfo.MaxComputeUnits, sizeof(uint), &units, null);
            cl.GetDeviceInfo(id, DeviceInfo.GlobalMemSize, sizeof(ulong), &memory, null);
            cl.GetDeviceInfo(id, DeviceInfo.Type, sizeof(ulong), &type, null);
            return new OpenClDeviceInfo(DeviceString(cl, id, DeviceInfo.Name), DeviceTypeName(type),
                DeviceString(cl, id, DeviceInfo.Version), units, memory, DeviceString(cl, id, DeviceInfo.Extensions));
        }).ToList();
    }

    private static string DeviceTypeName(ulong type) =>
        ((DeviceType)type & DeviceType.Gpu) != 0 ? "GPU"
        : ((DeviceType)type & DeviceType.Cpu) != 0 ? "CPU"
        : ((DeviceType)type & DeviceType.Accelerator) != 0 ? "accelerator"
        : "other";

    private static string PlatformString(CL cl, nint platform, PlatformInfo what)
    {
        nuint size = 0;
        if (cl.GetPlatformInfo(platform, what, 0, null, &size) != 0 || size == 0) return "";
        var bytes = new byte[size];
        fixed (byte* b = bytes) cl.GetPlatformInfo(platform, what, size, b, null);
        return Encoding.UTF8.GetString(bytes).TrimEnd('\0').Trim();
    }

    private static string DeviceString(CL cl, nint device, DeviceInfo what)
    {
        nuint size = 0;
        if (cl.GetDeviceInfo(device, what, 0, null, &size) != 0 || size == 0) return "";
        var bytes = new byte[size];
        fixed (byte* b = bytes) cl.GetDeviceInfo(device, what, size, b, null);
        return Encoding.UTF8.GetString(bytes).TrimEnd('\0').Trim();
    }
}
