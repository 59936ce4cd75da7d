using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using HpcCnn.Nn;

namespace HpcCnn.Tests.Nn;

/// <summary>The IDX reader and the safetensors format: round trips, a file written by hand, and every kind of damage as an error naming the file.</summary>
public sealed class DataFileTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("hpccnn-data-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private string PathOf(string name) => Path.Combine(folder, name);

    private static byte[] IdxBytes(byte type, int[] dims, byte[] values)
    {
        var bytes = new List<byte> { 0, 0, type, (byte)dims.Length };
        foreach (int d in dims)
        {
            var word = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(word, (uint)d);
            bytes.AddRange(word);
        }
        bytes.AddRange(values);
        return [.. bytes];
    }

    private static byte[] Gzip(byte[] plain)
    {
        using var memory = new MemoryStream();
        using (var gzip = new GZipStream(memory, CompressionLevel.Fastest)) gzip.Write(plain);
        return memory.ToArray();
    }

    private (string Images, string Labels) WritePair(int images, int labels, byte[]? labelValues = null, bool gzip = false)
    {
        var pixels = Enumerable.Range(0, images * 4 * 3).Select(i => (byte)i).ToArray();
        var imageFile = PathOf(gzip ? "images.gz" : "images");
        var labelFile = PathOf(gzip ? "labels.gz" : "labels");
        var imageBytes = IdxBytes(0x08, [images, 4, 3], pixels);
        var labelBytes = IdxBytes(0x08, [labels], labelValues ?? Enumerable.Range(0, labels).Select(i => (byte)(i % 10)).ToArray());
        File.WriteAllBytes(imageFile, gzip ? Gzip(imageBytes) : imageBytes);
        File.WriteAllBytes(labelFile, gzip ? Gzip(labelBytes) : labelBytes);
        return (imageFile, labelFile);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Idx_pair_loads_plain_and_gzip(bool gzip)
    {
        var (images, labels) = WritePair(5, 5, gzip: gzip);
        var set = ImageDataset.Load(images, labels);
        Assert.Equal((5, 4, 3), (set.Count, set.Height, set.Width));
        Assert.Equal([0, 1, 2, 3, 4], set.Labels.ToArray());
        var batch = new float[2 * 12];
        var batchLabels = new int[2];
        set.Gather([4, 1], batch, batchLabels);
        Assert.Equal([4, 1], batchLabels);
        Assert.Equal(48 * (1f / 255f), batch[0]); // image 4 starts at pixel 48
        Assert.Equal(12 * (1f / 255f), batch[12]);
    }

    [Fact]
    public void Idx_write_and_read_round_trip()
    {
        var path = PathOf("x.gz");
        byte[] values = [.. Enumerable.Range(0, 24).Select(i => (byte)(i * 7))];
        Idx.Write(path, [2, 3, 4], values);
        var (dims, read) = Idx.Read(path);
        Assert.Equal([2, 3, 4], dims);
        Assert.Equal(values, read);
    }

    [Fact]
    public void Missing_file_is_named()
    {
        var e = Assert.Throws<FileNotFoundException>(() => Idx.Read(PathOf("nothing")));
        Assert.Contains("nothing: no such file", e.Message);
        Assert.Throws<DirectoryNotFoundException>(() => ImageDataset.LoadFolder(PathOf("no-folder"), train: true));
        Directory.CreateDirectory(PathOf("empty"));
        Assert.Contains("train-images-idx3-ubyte", Assert.Throws<FileNotFoundException>(() => ImageDataset.LoadFolder(PathOf("empty"), train: true)).Message);
    }

    public static TheoryData<string, byte[], string> DamagedFiles() => new()
    {
        { "too short", [0, 0], "too short" },
        { "wrong magic", [0x1A, 0x2B, 0x08, 1, 0, 0, 0, 1, 5], "not an IDX file" },
        { "float data", IdxBytes(0x0D, [1], [0, 0, 0, 0]), "data type 0x0D" },
        { "zero rank", [0, 0, 8, 0], "0 dimensions" },
        { "truncated header", [0, 0, 8, 3, 0, 0, 0, 2], "truncated header" },
        { "truncated data", IdxBytes(0x08, [10, 2, 2], new byte[30]), "truncated" },
        { "trailing bytes", IdxBytes(0x08, [2], new byte[5]), "3 bytes after" },
        { "huge dimensions", IdxBytes(0x08, [60000, 60000, 60000], []), "exceed" },
        { "corrupt gzip", [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3, 0xFF, 0xFF, 0xFF, 0xFF], "" },
    };

    [Theory]
    [MemberData(nameof(DamagedFiles))]
    public void Damaged_idx_is_an_error_naming_file_and_fault(string name, byte[] content, string fault)
    {
        var path = PathOf(name.Replace(' ', '_'));
        File.WriteAllBytes(path, content);
        var e = Assert.Throws<InvalidDataException>(() => Idx.Read(path));
        Assert.StartsWith(path + ":", e.Message);
        Assert.Contains(fault, e.Message);
    }

    [Fact]
    public void Image_and_label_counts_must_match()
    {
        var (images, labels) = WritePair(5, 4);
        var e = Assert.Throws<InvalidDataException>(() => ImageDataset.Load(images, labels));
        Assert.Contains("5 images", e.Message);
        Assert.Contains("4 labels", e.Message);
    }

    [Fact]
    public void Label_out_of_range_is_an_error_naming_the_label_file()
    {
        var (images, labels) = WritePair(3, 3, labelValues: [1, 12, 3]);
        var e = Assert.Throws<InvalidDataException>(() => ImageDataset.Load(images, labels));
        Assert.StartsWith(labels + ":", e.Message);
        Assert.Contains("label 12 of image 1", e.Message);
    }

    [Fact]
    public void Images_must_have_three_dimensions()
    {
        var (_, labels) = WritePair(3, 3);
        var flat = PathOf("flat");
        File.WriteAllBytes(flat, IdxBytes(0x08, [36], new byte[36]));
        Assert.Contains("1 dimensions; images are count × height × width", Assert.Throws<InvalidDataException>(() => ImageDataset.Load(flat, labels)).Message);
    }

    [Fact]
    public void Embedded_sample_is_fashion_mnist_with_every_class()
    {
        var train = ImageDataset.FashionMnistSample(train: true);
        var test = ImageDataset.FashionMnistSample(train: false);
        Assert.Equal((5000, 1000, 28, 28), (train.Count, test.Count, train.Height, train.Width));
        Assert.Equal("Ankle boot", train.ClassNames[9]);
        for (int c = 0; c < 10; c++)
        {
            Assert.InRange(train.Labels.Count(c), 400, 600);
            Assert.InRange(test.Labels.Count(c), 80, 120);
        }
    }

    [Fact]
    public void Safetensors_round_trip_keeps_names_shapes_values_and_metadata()
    {
        var path = PathOf("w.safetensors");
        NamedTensor[] tensors =
        [
            new("conv1.weight", [2, 1, 2, 2], [1, 2, 3, 4, 5, 6, 7, float.NegativeInfinity]),
            new("conv1.bias", [2], [0.5f, -0.25f]),
            new("scalar", [], [42f]),
        ];
        SafeTensors.Save(path, tensors, new Dictionary<string, string> { ["format"] = "pt", ["note"] = "a\nb" });
        var (read, metadata) = SafeTensors.Load(path);
        Assert.Equal(tensors.Select(t => t.Name), read.Select(t => t.Name));
        for (int i = 0; i < tensors.Length; i++)
        {
            Assert.Equal(tensors[i].Shape, read[i].Shape);
            Assert.Equal(tensors[i].Values, read[i].Values);
        }
        Assert.Equal("a\nb", metadata["note"]);
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(0UL, BinaryPrimitives.ReadUInt64LittleEndian(bytes) % 8); // the header is padded to 8 bytes
    }

    /// <summary>A file assembled byte by byte as the format's specification describes it, not by our writer.</summary>
    [Fact]
    public void Safetensors_reads_a_file_written_to_the_specification()
    {
        string json = """{"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"__metadata__":{"format":"pt"}}""";
        var header = Encoding.UTF8.GetBytes(json);
        var bytes = new byte[8 + header.Length + 12];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        header.CopyTo(bytes, 8);
        BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(8 + header.Length), 1.5f);
        BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(12 + header.Length), -2f);
        BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(16 + header.Length), 3f);
        var path = PathOf("spec.safetensors");
        File.WriteAllBytes(path, bytes);
        var (tensors, metadata) = SafeTensors.Load(path);
        Assert.Equal(["a", "b"], tensors.Select(t => t.Name));
        Assert.Equal([1.5f, -2f], tensors[0].Values);
        Assert.Equal([3f], tensors[1].Values);
        Assert.Equal("pt", metadata["format"]);
    }

    public static TheoryData<string, string, int, string> DamagedSafetensors() => new()
    {
        { "bad json", "{\"a\":", 0, "not valid JSON" },
        { "f16", """{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}""", 4, "only F32" },
        { "outside", """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,80]}}""", 8, "outside" },
        { "size mismatch", """{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", 8, "needs 12 bytes" },
        { "overlap", """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", 12, "overlap or gap" },
        { "extra data", """{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", 8, "cover 4 of the 8" },
        { "no shape", """{"a":{"dtype":"F32","data_offsets":[0,4]}}""", 4, "no shape" },
        { "negative dim", """{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}""", 4, "bad dimension" },
    };

    [Theory]
    [MemberData(nameof(DamagedSafetensors))]
    public void Damaged_safetensors_is_an_error_naming_file_and_fault(string name, string json, int dataBytes, string fault)
    {
        var header = Encoding.UTF8.GetBytes(json);
        var bytes = new byte[8 + header.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        header.CopyTo(bytes, 8);
        var path = PathOf(name.Replace(' ', '_'));
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(path));
        Assert.StartsWith(path + ":", e.Message);
        Assert.Contains(fault, e.Message);
    }

    [Fact]
    public void Safetensors_header_length_beyond_the_file_is_an_error()
    {
        var path = PathOf("short.safetensors");
        var bytes = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, 1UL << 40);
        File.WriteAllBytes(path, bytes);
        Assert.Contains("does not fit", Assert.Throws<InvalidDataException>(() => SafeTensors.Load(path)).Message);
        File.WriteAllBytes(path, [1, 2, 3]);
        Assert.Contains("too short", Assert.Throws<InvalidDataException>(() => SafeTensors.Load(path)).Message);
    }
}
