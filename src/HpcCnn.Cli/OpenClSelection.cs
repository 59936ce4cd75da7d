using HpcCnn.OpenCl;

namespace HpcCnn.Cli;

/// <summary>The --device option: a number is an index from <c>hpccnn info</c>, anything else part of a device name.</summary>
internal static class OpenClSelection
{
    public static OpenClBackendOptions Parse(string? device) =>
        string.IsNullOrEmpty(device) ? new OpenClBackendOptions()
        : int.TryParse(device, out int index) ? new OpenClBackendOptions { DeviceIndex = index }
        : new OpenClBackendOptions { DeviceName = device };
}
