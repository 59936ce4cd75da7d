using System.Buffers.Binary;
using System.IO.Compression;

namespace HpcCnn.Nn;

/// <summary>
/// The IDX format of MNIST and Fashion-MNIST (LeCun et al.): two zero bytes, a type byte (0x08:
/// unsigned byte, the only one these data sets use), the number of dimensions, each dimension as
/// a big-endian uint32, then the values. Files may be gzip-compressed (recognised by content, not
/// by name). Every problem is an <see cref="InvalidDataException"/> naming the file.
/// </summary>
public static class Idx
{
    /// <summary>The largest file this reader accepts once decompressed.</summary>
    public const long MaxBytes = 1L << 30;

    /// <summary>Reads an IDX file of unsigned bytes: its dimensions and values.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">Not an IDX file of unsigned bytes, or truncated, or with bytes after the data.</exception>
    public static (int[] Dimensions, byte[] Values) Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file", path);
        using var file = File.OpenRead(path);
        return Read(file, path);
    }

    /// <summary>Reads IDX from a stream (gzip or plain); <paramref name="name"/> names it in errors.</summary>
    public static (int[] Dimensions, byte[] Values) Read(Stream stream, string name)
    {
        byte[] content;
        try
        {
            content = Decompress(stream, name);
        }
        catch (InvalidDataException e) when (!e.Message.StartsWith(name, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{name}: corrupt gzip data ({e.Message})", e);
        }
        if (content.Length < 4) throw Error(name, $"{content.Length} bytes is too short for an IDX header");
        if (content[0] != 0 || content[1] != 0)
            throw Error(name, $"not an IDX file (magic number 0x{BinaryPrimitives.ReadUInt32BigEndian(content):X8}; IDX files start with two zero bytes)");
        if (content[2] != 0x08)
            throw Error(name, $"IDX data type 0x{content[2]:X2} is not supported (only 0x08, unsigned bytes)");
        int rank = content[3];
        if (rank is < 1 or > 4) throw Error(name, $"{rank} dimensions; expected 1 to 4");
        int header = 4 + 4 * rank;
        if (content.Length < header) throw Error(name, $"truncated header: {rank} dimensions need {header} bytes, the file has {content.Length}");
        var dims = new int[rank];
        long count = 1;
        for (int d = 0; d < rank; d++)
        {
            uint size = BinaryPrimitives.ReadUInt32BigEndian(content.AsSpan(4 + 4 * d));
            if (size > int.MaxValue) throw Error(name, $"dimension {d} is {size}, too large");
            dims[d] = (int)size;
            count *= size;
            if (count > MaxBytes) throw Error(name, $"dimensions {string.Join(" × ", dims[..(d + 1)])} exceed {MaxBytes} values");
        }
        long have = content.Length - header;
        if (have < count)
            throw Error(name, $"truncated: the header says {string.Join(" × ", dims)} = {count} values, the file holds {have}");
        if (have > count)
            throw Error(name, $"{have - count} bytes after the {string.Join(" × ", dims)} values the header announces");
        return (dims, content[header..]);
    }

    /// <summary>Writes an IDX file of unsigned bytes, gzip-compressed when <paramref name="path"/> ends in .gz.</summary>
    public static void Write(string path, ReadOnlySpan<int> dimensions, ReadOnlySpan<byte> values)
    {
        using var file = File.Create(path);
        using Stream output = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionLevel.Optimal) : file;
        Span<byte> word = stackalloc byte[4];
        output.Write([0, 0, 0x08, (byte)dimensions.Length]);
        foreach (int d in dimensions)
        {
            BinaryPrimitives.WriteUInt32BigEndian(word, (uint)d);
            output.Write(word);
        }
        output.Write(values);
    }

    private static byte[] Decompress(Stream stream, string name)
    {
        using var raw = new MemoryStream();
        CopyLimited(stream, raw, name);
        if (raw.Length < 2 || raw.GetBuffer()[0] != 0x1F || raw.GetBuffer()[1] != 0x8B) return raw.ToArray();
        raw.Position = 0;
        using var unzip = new GZipStream(raw, CompressionMode.Decompress);
        using var content = new MemoryStream();
        CopyLimited(unzip, content, name);
        return content.ToArray();
    }

    private static void CopyLimited(Stream source, MemoryStream destination, string name)
    {
        var buffer = new byte[81920];
        int n;
        while ((n = source.Read(buffer)) > 0)
        {
            if (destination.Length + n > MaxBytes + 64) throw Error(name, $"more than {MaxBytes} bytes");
            destination.Write(buffer, 0, n);
        }
    }

    internal static InvalidDataException Error(string name, string what) => new($"{name}: {what}");
}
