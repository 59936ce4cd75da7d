using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace HpcCnn.OpenCl;

/// <summary>
/// Compiled program binaries on disk, one file per key. The key hashes everything that decides
/// the binary (cache format version, source, build options, device name, device and driver
/// versions), so a new driver or an edited kernel never loads a stale binary. Each file carries a
/// header (magic, format version, key) and a hash of its payload: any file that does not check out
/// is treated as missing, and the caller rebuilds and rewrites it. Disk errors only cost a rebuild.
/// </summary>
internal sealed class ProgramCache(string directory)
{
    /// <summary>Bump when the file layout or anything else that invalidates old entries changes.</summary>
    public const int FormatVersion = 1;

    private static readonly byte[] Magic = "HCCLBIN\0"u8.ToArray();
    private const int HeaderLength = 8 + 4 + 32 + 8 + 32;

    public string Directory { get; } = directory;

    /// <summary>HPCCNN_OPENCL_CACHE, else $XDG_CACHE_HOME/hpccnn/opencl, else ~/.cache/hpccnn/opencl.</summary>
    public static string DefaultDirectory()
    {
        var explicitDirectory = Environment.GetEnvironmentVariable("HPCCNN_OPENCL_CACHE");
        if (!string.IsNullOrEmpty(explicitDirectory)) return explicitDirectory;
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        var root = !string.IsNullOrEmpty(xdg) ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(root, "hpccnn", "opencl");
    }

    public static byte[] Key(string source, string options, string deviceName, string deviceVersion, string driverVersion)
    {
        var text = string.Join("\n\u0001", FormatVersion.ToString(), source, options, deviceName, deviceVersion, driverVersion);
        return SHA256.HashData(Encoding.UTF8.GetBytes(text));
    }

    public string PathOf(byte[] key) => Path.Combine(Directory, Convert.ToHexStringLower(key) + ".bin");

    /// <summary>The cached binary for the key, or null when there is none or it does not check out.</summary>
    public byte[]? TryLoad(byte[] key)
    {
        byte[] file;
        try
        {
            file = File.ReadAllBytes(PathOf(key));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        if (file.Length < HeaderLength) return null;
        var span = file.AsSpan();
        if (!span[..8].SequenceEqual(Magic)) return null;
        if (BinaryPrimitives.ReadInt32LittleEndian(span[8..]) != FormatVersion) return null;
        if (!span.Slice(12, 32).SequenceEqual(key)) return null;
        long length = BinaryPrimitives.ReadInt64LittleEndian(span[44..]);
        if (length != file.Length - HeaderLength || length == 0) return null;
        var payload = span[HeaderLength..];
        if (!SHA256.HashData(payload).AsSpan().SequenceEqual(span.Slice(52, 32))) return null;
        return payload.ToArray();
    }

    /// <summary>Writes atomically (temporary file, then rename), so a reader never sees half a file.</summary>
    public bool TryStore(byte[] key, byte[] binary)
    {
        try
        {
            System.IO.Directory.CreateDirectory(Directory);
            var file = new byte[HeaderLength + binary.Length];
            var span = file.AsSpan();
            Magic.CopyTo(span);
            BinaryPrimitives.WriteInt32LittleEndian(span[8..], FormatVersion);
            key.CopyTo(span[12..]);
            BinaryPrimitives.WriteInt64LittleEndian(span[44..], binary.Length);
            SHA256.HashData(binary).CopyTo(span[52..]);
            binary.CopyTo(span[HeaderLength..]);
            var path = PathOf(key);
            var temporary = $"{path}.{Environment.ProcessId}.{Environment.CurrentManagedThreadId}.tmp";
            File.WriteAllBytes(temporary, file);
            File.Move(temporary, path, overwrite: true);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
