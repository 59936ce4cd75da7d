using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace HpcCnn.Nn;

/// <summary>A named float32 tensor: shape (outermost first) and values in row-major order.</summary>
public sealed record NamedTensor(string Name, int[] Shape, float[] Values);

/// <summary>
/// The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON header
/// naming each tensor's dtype, shape and byte range (plus optional <c>__metadata__</c> strings),
/// then the tensors' bytes, little-endian. Only F32 tensors are written and read. Every problem
/// with a file is an <see cref="InvalidDataException"/> naming it.
/// </summary>
public static class SafeTensors
{
    private const long MaxHeader = 100_000_000;

    /// <summary>Writes <paramref name="tensors"/> in the given order with <paramref name="metadata"/>.</summary>
    public static void Save(string path, IEnumerable<NamedTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var header = new JsonObject();
        if (metadata is { Count: > 0 })
        {
            var meta = new JsonObject();
            foreach (var (k, v) in metadata) meta[k] = v;
            header["__metadata__"] = meta;
        }
        var list = tensors.ToList();
        long offset = 0;
        foreach (var t in list)
        {
            if (t.Name == "__metadata__" || header.ContainsKey(t.Name)) throw new ArgumentException($"tensor name '{t.Name}' is reserved or repeated", nameof(tensors));
            long count = t.Shape.Aggregate(1L, (a, d) => a * d);
            if (count != t.Values.Length) throw new ArgumentException($"tensor '{t.Name}' of shape [{string.Join(", ", t.Shape)}] has {t.Values.Length} values", nameof(tensors));
            header[t.Name] = new JsonObject
            {
                ["dtype"] = "F32",
                ["shape"] = new JsonArray([.. t.Shape.Select(d => (JsonNode)d)]),
                ["data_offsets"] = new JsonArray(offset, offset + 4 * count),
            };
            offset += 4 * count;
        }
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padded = (json.Length + 7) / 8 * 8; // the format pads the header with spaces to 8 bytes
        using var file = File.Create(path);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded);
        file.Write(length);
        file.Write(json);
        for (int i = json.Length; i < padded; i++) file.WriteByte((byte)' ');
        foreach (var t in list)
        {
            if (BitConverter.IsLittleEndian) file.Write(MemoryMarshal.AsBytes(t.Values.AsSpan()));
            else foreach (float v in t.Values) { var b = new byte[4]; BinaryPrimitives.WriteSingleLittleEndian(b, v); file.Write(b); }
        }
    }

    /// <summary>Reads every tensor (in file order) and the metadata.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">Not a well-formed safetensors file of F32 tensors; the message names the file and the fault.</exception>
    public static (IReadOnlyList<NamedTensor> Tensors, IReadOnlyDictionary<string, string> Metadata) Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file", path);
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 8) throw Error(path, $"{bytes.Length} bytes is too short for the 8-byte header length");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > MaxHeader || (long)headerLength > bytes.Length - 8)
            throw Error(path, $"the header length {headerLength} does not fit the file of {bytes.Length} bytes");
        JsonObject header;
        try
        {
            header = JsonNode.Parse(bytes.AsSpan(8, (int)headerLength)) as JsonObject ?? throw Error(path, "the header is not a JSON object");
        }
        catch (JsonException e)
        {
            throw Error(path, $"the header is not valid JSON ({e.Message})");
        }
        long dataStart = 8 + (long)headerLength, dataLength = bytes.Length - dataStart;
        var metadata = new Dictionary<string, string>();
        var tensors = new List<(long Begin, NamedTensor Tensor)>();
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__")
            {
                if (node is not JsonObject meta) throw Error(path, "__metadata__ is not an object");
                foreach (var (k, v) in meta)
                    metadata[k] = v is JsonValue value && value.TryGetValue(out string? s) ? s : throw Error(path, $"metadata '{k}' is not a string");
                continue;
            }
            tensors.Add(ReadTensor(path, name, node, bytes, dataStart, dataLength));
        }
        // Byte ranges must tile the data exactly: no overlap, no gap, nothing after.
        long expected = 0;
        foreach (var (begin, t) in tensors.OrderBy(t => t.Begin))
        {
            if (begin != expected) throw Error(path, $"tensor '{t.Name}' starts at byte {begin} of the data, expected {expected} (overlap or gap)");
            expected += 4L * t.Values.Length;
        }
        if (expected != dataLength) throw Error(path, $"the tensors cover {expected} of the {dataLength} data bytes");
        return (tensors.OrderBy(t => t.Begin).Select(t => t.Tensor).ToList(), metadata);
    }

    private static (long, NamedTensor) ReadTensor(string path, string name, JsonNode? node, byte[] bytes, long dataStart, long dataLength)
    {
        if (node is not JsonObject o) throw Error(path, $"entry '{name}' is not an object");
        string? dtype = (o["dtype"] as JsonValue)?.TryGetValue(out string? d) == true ? d : null;
        if (dtype != "F32") throw Error(path, $"tensor '{name}' has dtype {dtype ?? "(none)"}; only F32 is supported");
        if (o["shape"] is not JsonArray shapeArray) throw Error(path, $"tensor '{name}' has no shape");
        var shape = new int[shapeArray.Count];
        long count = 1;
        for (int i = 0; i < shape.Length; i++)
        {
            if (shapeArray[i] is not JsonValue v || !v.TryGetValue(out long dim) || dim < 0 || dim > int.MaxValue)
                throw Error(path, $"tensor '{name}' has a bad dimension {shapeArray[i]?.ToJsonString()}");
            shape[i] = (int)dim;
            count = checked(count * dim);
            if (count > dataLength) throw Error(path, $"tensor '{name}' of shape [{string.Join(", ", shape[..(i + 1)])}] is larger than the file");
        }
        if (o["data_offsets"] is not JsonArray { Count: 2 } offsets
            || offsets[0] is not JsonValue b0 || !b0.TryGetValue(out long begin)
            || offsets[1] is not JsonValue e0 || !e0.TryGetValue(out long end))
            throw Error(path, $"tensor '{name}' has no data_offsets [begin, end]");
        if (begin < 0 || end < begin || end > dataLength)
            throw Error(path, $"tensor '{name}' has data_offsets [{begin}, {end}] outside the {dataLength} data bytes");
        if (end - begin != 4 * count)
            throw Error(path, $"tensor '{name}' of shape [{string.Join(", ", shape)}] needs {4 * count} bytes, its data_offsets give {end - begin}");
        var values = new float[count];
        var source = bytes.AsSpan((int)(dataStart + begin), (int)(end - begin));
        if (BitConverter.IsLittleEndian) source.CopyTo(MemoryMarshal.AsBytes(values.AsSpan()));
        else for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(source[(4 * i)..]);
        return (begin, new NamedTensor(name, shape, values));
    }

    private static InvalidDataException Error(string path, string what) => new($"{path}: {what}");
}
