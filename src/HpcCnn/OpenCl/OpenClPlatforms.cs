using System.Text;
using Silk.NET.OpenCL;

namespace HpcCnn.OpenCl;

/// <summary>
/// An OpenCL device as <c>hpccnn info</c> lists it. <c>Index</c> is its position among all devices
/// of all platforms, the number <see cref="OpenClBackendOptions.DeviceIndex"/> takes.
/// </summary>
public sealed record OpenClDeviceInfo(int Index, string Name, string Type, string Version, string DriverVersion, string OpenClCVersion,
    uint ComputeUnits, ulong GlobalMemoryBytes, ulong LocalMemoryBytes, ulong MaxWorkGroupSize, string Extensions)
{
    /// <summary>The largest single buffer the device allocates (CL_DEVICE_MAX_MEM_ALLOC_SIZE).</summary>
    public ulong MaxAllocationBytes { get; init; } = GlobalMemoryBytes;

    public bool IsGpu => Type == "GPU";
}

/// <summary>An OpenCL platform and its devices.</summary>
public sealed record OpenClPlatformInfo(string Name, string Vendor, string Version, IReadOnlyList<OpenClDeviceInfo> Devices);

/// <summary>The OpenCL platforms on this machine, or why there are none.</summary>
public sealed record OpenClReport(IReadOnlyList<OpenClPlatformInfo> Platforms, string? Unavailable)
{
    public IEnumerable<OpenClDeviceInfo> Devices => Platforms.SelectMany(p => p.Devices);
}

/// <summary>Enumerates OpenCL platforms and devices through Silk.NET.OpenCL without creating contexts.</summary>
public static unsafe class OpenClPlatforms
{
    private const int PlatformNotFoundKhr = -1001;

    /// <summary>Never throws: a missing loader or platform is reported in <see cref="OpenClReport.Unavailable"/>.</summary>
    public static OpenClReport Query()
    {
        try
        {
            var devices = Enumerate();
            return new(devices.GroupBy(d => d.Platform).Select(g => g.Key with { Devices = g.Select(d => d.Info).ToList() }).ToList(), null);
        }
        catch (OpenClUnavailableException e)
        {
            return new([], e.Message);
        }
    }

    /// <summary>The name of an OpenCL error code, e.g. -5 → OutOfResources (-5).</summary>
    public static string ErrorName(int code) =>
        Enum.IsDefined(typeof(ErrorCodes), code) ? $"{(ErrorCodes)code} ({code})" : $"error {code}";

    /// <summary>Every device of every platform, numbered in this order.</summary>
    /// <exception cref="OpenClUnavailableException">No loader or no platform.</exception>
    internal static List<(OpenClPlatformInfo Platform, nint Id, OpenClDeviceInfo Info)> Enumerate()
    {
        var cl = OpenClApi.Cl;
        uint count = 0;
        int status = cl.GetPlatformIDs(0, null, &count);
        if (status == PlatformNotFoundKhr || (status == 0 && count == 0))
            throw new OpenClUnavailableException($"the OpenCL loader found no platform: {OpenClApi.InstallHint}");
        if (status != 0) throw new OpenClUnavailableException($"clGetPlatformIDs failed with {ErrorName(status)}");
        var ids = new nint[count];
        fixed (nint* p = ids) OpenClApi.Check(cl.GetPlatformIDs(count, p, null), "clGetPlatformIDs");
        var result = new List<(OpenClPlatformInfo, nint, OpenClDeviceInfo)>();
        foreach (var platformId in ids)
        {
            var platform = new OpenClPlatformInfo(PlatformString(cl, platformId, PlatformInfo.Name),
                PlatformString(cl, platformId, PlatformInfo.Vendor), PlatformString(cl, platformId, PlatformInfo.Version), []);
            foreach (var deviceId in DeviceIds(cl, platformId))
                result.Add((platform, deviceId, Describe(cl, deviceId, result.Count)));
        }
        return result;
    }

    private static nint[] DeviceIds(CL cl, nint platform)
    {
        uint count = 0;
        if (cl.GetDeviceIDs(platform, DeviceType.All, 0, null, &count) != 0 || count == 0) return [];
        var ids = new nint[count];
        fixed (nint* p = ids) OpenClApi.Check(cl.GetDeviceIDs(platform, DeviceType.All, count, p, null), "clGetDeviceIDs");
        return ids;
    }

    private static OpenClDeviceInfo Describe(CL cl, nint id, int index)
    {
        uint units = 0;
        ulong memory = 0, local = 0, type = 0, largest = 0;
        nuint workGroup = 0;
        cl.GetDeviceInfo(id, DeviceInfo.MaxComputeUnits, sizeof(uint), &units, null);
        cl.GetDeviceInfo(id, DeviceInfo.GlobalMemSize, sizeof(ulong), &memory, null);
        cl.GetDeviceInfo(id, DeviceInfo.LocalMemSize, sizeof(ulong), &local, null);
        cl.GetDeviceInfo(id, DeviceInfo.MaxMemAllocSize, sizeof(ulong), &largest, null);
        cl.GetDeviceInfo(id, DeviceInfo.Type, sizeof(ulong), &type, null);
        cl.GetDeviceInfo(id, DeviceInfo.MaxWorkGroupSize, (nuint)sizeof(nuint), &workGroup, null);
        return new OpenClDeviceInfo(index, DeviceString(cl, id, DeviceInfo.Name), DeviceTypeName(type),
            DeviceString(cl, id, DeviceInfo.Version), DeviceString(cl, id, DeviceInfo.DriverVersion),
            DeviceString(cl, id, OpenClCVersion), units, memory, local, workGroup, DeviceString(cl, id, DeviceInfo.Extensions))
        {
            MaxAllocationBytes = largest > 0 ? largest : memory,
        };
    }

    // Deprecated by OpenCL 3.0 in favour of a version list, but the only form 1.2 devices answer.
#pragma warning disable CS0618
    private const DeviceInfo OpenClCVersion = DeviceInfo.OpenclCVersion;
#pragma warning restore CS0618

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

    internal static string DeviceString(CL cl, nint device, DeviceInfo what)
    {
        nuint size = 0;
        if (cl.GetDeviceInfo(device, what, 0, null, &size) != 0 || size == 0) return "";
        var bytes = new byte[size];
        fixed (byte* b = bytes) cl.GetDeviceInfo(device, what, size, b, null);
        return Encoding.UTF8.GetString(bytes).TrimEnd('\0').Trim();
    }
}
