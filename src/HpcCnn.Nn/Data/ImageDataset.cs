using System.Reflection;

namespace HpcCnn.Nn;

/// <summary>
/// Labelled grey-scale images in memory (MNIST's format: one byte per pixel, one class per image),
/// handed to a network as floats in [0, 1].
/// </summary>
public sealed class ImageDataset
{
    /// <summary>Fashion-MNIST's class names, by label.</summary>
    public static readonly IReadOnlyList<string> FashionMnistClasses =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>The digits' names, by label.</summary>
    public static readonly IReadOnlyList<string> DigitClasses = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

    private readonly byte[] pixels;
    private readonly int[] labels;

    /// <exception cref="ArgumentException">The arrays' sizes disagree, or a label is not one of the classes.</exception>
    public ImageDataset(byte[] pixels, int[] labels, int height, int width, IReadOnlyList<string> classNames, string source)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(classNames);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        if (pixels.LongLength != (long)labels.Length * height * width)
            throw new ArgumentException($"{labels.Length} images of {height}×{width} need {(long)labels.Length * height * width} pixels, not {pixels.LongLength}", nameof(pixels));
        for (int i = 0; i < labels.Length; i++)
            if ((uint)labels[i] >= (uint)classNames.Count)
                throw new ArgumentException($"label {labels[i]} of image {i} is not a class (0 .. {classNames.Count - 1})", nameof(labels));
        this.pixels = pixels;
        this.labels = labels;
        Height = height;
        Width = width;
        ClassNames = classNames;
        Source = source;
    }

    public int Count => labels.Length;
    public int Height { get; }
    public int Width { get; }
    public TensorShape Shape => new(1, Height, Width);
    public IReadOnlyList<string> ClassNames { get; }
    public int Classes => ClassNames.Count;
    /// <summary>Where the images came from (a folder, file names or the embedded sample).</summary>
    public string Source { get; }
    public ReadOnlySpan<int> Labels => labels;
    public ReadOnlySpan<byte> Pixels => pixels;

    /// <summary>Images <paramref name="indices"/> as floats in [0, 1] (pixel / 255), and their labels.</summary>
    public void Gather(ReadOnlySpan<int> indices, Span<float> images, Span<int> batchLabels)
    {
        int size = Height * Width;
        for (int b = 0; b < indices.Length; b++)
        {
            int i = indices[b];
            var source = pixels.AsSpan(i * size, size);
            var target = images.Slice(b * size, size);
            for (int p = 0; p < size; p++) target[p] = source[p] * (1f / 255f);
            batchLabels[b] = labels[i];
        }
    }

    /// <summary>The first <paramref name="count"/> images (or fewer).</summary>
    public ImageDataset Take(int count)
    {
        int n = Math.Clamp(count, 0, Count);
        return new ImageDataset(pixels[..(n * Height * Width)], labels[..n], Height, Width, ClassNames, $"{Source}, first {n}");
    }

    /// <summary>
    /// The images of <paramref name="classes"/> only, relabelled 0, 1, ... in the order given
    /// (class names follow), at most <paramref name="limit"/> of them, in their original order.
    /// </summary>
    /// <exception cref="ArgumentException">A class is out of range or repeated.</exception>
    public ImageDataset OfClasses(IReadOnlyList<int> classes, int limit = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(classes);
        var relabel = Enumerable.Repeat(-1, Classes).ToArray();
        for (int i = 0; i < classes.Count; i++)
        {
            if ((uint)classes[i] >= (uint)Classes) throw new ArgumentException($"class {classes[i]} is not one of 0 .. {Classes - 1}", nameof(classes));
            if (relabel[classes[i]] >= 0) throw new ArgumentException($"class {classes[i]} is listed twice", nameof(classes));
            relabel[classes[i]] = i;
        }
        int size = Height * Width;
        var kept = Enumerable.Range(0, Count).Where(i => relabel[labels[i]] >= 0).Take(Math.Max(limit, 0)).ToArray();
        var pixelsKept = new byte[kept.Length * size];
        for (int j = 0; j < kept.Length; j++) pixels.AsSpan(kept[j] * size, size).CopyTo(pixelsKept.AsSpan(j * size));
        return new ImageDataset(pixelsKept, [.. kept.Select(i => relabel[labels[i]])], Height, Width, [.. classes.Select(c => ClassNames[c])],
            $"{Source}, classes {string.Join(",", classes)}" + (limit < int.MaxValue ? $", first {kept.Length}" : ""));
    }

    /// <summary>
    /// Reads an IDX image file (N × H × W) and its IDX label file (N), plain or gzip. Labels must
    /// be below the number of <paramref name="classNames"/> (default: ten digits).
    /// </summary>
    /// <exception cref="FileNotFoundException">A file is missing.</exception>
    /// <exception cref="InvalidDataException">A file is not IDX, is truncated, the counts differ or a label is out of range; the message names the file.</exception>
    public static ImageDataset Load(string imagesPath, string labelsPath, IReadOnlyList<string>? classNames = null) =>
        Load(imagesPath, labelsPath, classNames ?? DigitClasses, $"{imagesPath} + {labelsPath}");

    private static ImageDataset Load(string imagesPath, string labelsPath, IReadOnlyList<string> classNames, string source)
    {
        var (imageDims, imageBytes) = Idx.Read(imagesPath);
        var (labelDims, labelBytes) = Idx.Read(labelsPath);
        return FromIdx(imagesPath, imageDims, imageBytes, labelsPath, labelDims, labelBytes, classNames, source);
    }

    /// <summary>
    /// The training or test half of an MNIST-style folder: <c>train-images-idx3-ubyte[.gz]</c> and
    /// <c>train-labels-idx1-ubyte[.gz]</c>, or <c>t10k-…</c> for the test set. Fashion-MNIST's
    /// class names are used when the folder's path says "fashion", else digits.
    /// </summary>
    public static ImageDataset LoadFolder(string folder, bool train)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"{folder}: no such folder");
        string prefix = train ? "train" : "t10k";
        string images = Find(folder, $"{prefix}-images-idx3-ubyte"), labels = Find(folder, $"{prefix}-labels-idx1-ubyte");
        var names = Path.GetFullPath(folder).Contains("fashion", StringComparison.OrdinalIgnoreCase) ? FashionMnistClasses : DigitClasses;
        return Load(images, labels, names, $"{folder} ({prefix})");
    }

    /// <summary>The Fashion-MNIST sample embedded in this assembly: 5,000 training or 1,000 test images.</summary>
    public static ImageDataset FashionMnistSample(bool train)
    {
        string prefix = train ? "train" : "t10k";
        var (imageDims, imageBytes) = ReadResource($"{prefix}-images-idx3-ubyte.gz");
        var (labelDims, labelBytes) = ReadResource($"{prefix}-labels-idx1-ubyte.gz");
        return FromIdx("embedded images", imageDims, imageBytes, "embedded labels", labelDims, labelBytes, FashionMnistClasses,
            $"Fashion-MNIST sample embedded in HpcCnn.Nn ({(train ? "training" : "test")})");
    }

    private static (int[], byte[]) ReadResource(string file)
    {
        string name = $"HpcCnn.Nn.Data.FashionMnistSample.{file}";
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"resource {name} is missing from HpcCnn.Nn");
        return Idx.Read(stream, name);
    }

    private static string Find(string folder, string stem)
    {
        foreach (var candidate in new[] { stem + ".gz", stem, stem.Replace("-idx", ".idx") + ".gz", stem.Replace("-idx", ".idx") })
        {
            string path = Path.Combine(folder, candidate);
            if (File.Exists(path)) return path;
        }
        throw new FileNotFoundException($"{folder}: no {stem} or {stem}.gz", Path.Combine(folder, stem));
    }

    private static ImageDataset FromIdx(string imagesName, int[] imageDims, byte[] imageBytes, string labelsName, int[] labelDims, byte[] labelBytes,
        IReadOnlyList<string> classNames, string source)
    {
        if (imageDims.Length != 3) throw Idx.Error(imagesName, $"{imageDims.Length} dimensions; images are count × height × width (3)");
        if (labelDims.Length != 1) throw Idx.Error(labelsName, $"{labelDims.Length} dimensions; labels are one list (1)");
        if (imageDims[1] == 0 || imageDims[2] == 0) throw Idx.Error(imagesName, $"images of {imageDims[1]}×{imageDims[2]} pixels");
        if (imageDims[0] != labelDims[0])
            throw new InvalidDataException($"{imagesName} holds {imageDims[0]} images but {labelsName} holds {labelDims[0]} labels");
        var labels = new int[labelDims[0]];
        for (int i = 0; i < labels.Length; i++)
        {
            labels[i] = labelBytes[i];
            if (labels[i] >= classNames.Count)
                throw Idx.Error(labelsName, $"label {labels[i]} of image {i} is outside the {classNames.Count} classes (0 .. {classNames.Count - 1})");
        }
        return new ImageDataset(imageBytes, labels, imageDims[1], imageDims[2], classNames, source);
    }
}
