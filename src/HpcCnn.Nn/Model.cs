namespace HpcCnn.Nn;

/// <summary>
/// A trained classifier for use inside an app: architecture, weights and class names from one
/// safetensors file, predictions on a backend. <see cref="Predict(ReadOnlySpan{float}, Span{float})"/>
/// allocates nothing once a batch size has been seen, and may be called from several threads at
/// once: calls are serialised (each already uses the backend's threads), and every result is the
/// same bits as the same call made alone.
/// </summary>
/// <example>
/// <code>
/// using var cpu = new CpuBackend();
/// using var model = Model.Load("train-output/model.safetensors", cpu);
/// float[] probabilities = model.Predict(images);          // images: n × 1 × 28 × 28, values in [0, 1]
/// </code>
/// </example>
public sealed class Model : IDisposable
{
    /// <summary>The metadata key of the class names (one per line).</summary>
    public const string ClassesKey = "hpccnn.classes";

    private readonly Lock gate = new();

    private Model(Network network, IReadOnlyList<string> classNames)
    {
        Network = network;
        ClassNames = classNames;
    }

    /// <summary>The network behind the model (its parameters, its backend).</summary>
    public Network Network { get; }
    public Sequential Architecture => Network.Model;
    public TensorShape InputShape => Network.Model.InputShape;
    public IReadOnlyList<string> ClassNames { get; }
    public int Classes => ClassNames.Count;

    /// <summary>
    /// Reads a file written by <see cref="Save"/> (or by <c>hpccnn train</c>) and builds the model on
    /// <paramref name="backend"/>.
    /// </summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">Not a model file: malformed, no architecture, or weights that do not fit it; the message names the file.</exception>
    public static Model Load(string path, Backend backend)
    {
        ArgumentNullException.ThrowIfNull(backend);
        var (_, metadata) = SafeTensors.Load(path);
        if (!metadata.TryGetValue(Nn.Architecture.MetadataKey, out var json))
            throw new InvalidDataException($"{path}: no {Nn.Architecture.MetadataKey} in the metadata; was it saved by Model.Save or hpccnn train?");
        Sequential architecture;
        try
        {
            architecture = Nn.Architecture.FromJson(json);
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            throw new InvalidDataException($"{path}: the architecture in the metadata is not usable: {e.Message}", e);
        }
        var classes = metadata.TryGetValue(ClassesKey, out var names) ? names.Split('\n') : [.. Enumerable.Range(0, (int)architecture.OutputShape.Size).Select(i => i.ToString())];
        if (classes.Length != architecture.OutputShape.Size)
            throw new InvalidDataException($"{path}: {classes.Length} class names for a model of {architecture.OutputShape.Size} outputs");
        var network = architecture.Build(backend);
        try
        {
            network.LoadWeights(path);
        }
        catch
        {
            network.Dispose();
            throw;
        }
        return new Model(network, classes);
    }

    /// <summary>Writes the weights with the architecture and class names in the metadata (plus <paramref name="metadata"/>).</summary>
    public static void Save(Network network, IReadOnlyList<string> classNames, string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(classNames);
        if (classNames.Count != network.Classes)
            throw new ArgumentException($"{classNames.Count} class names for a model of {network.Classes} outputs", nameof(classNames));
        var all = new Dictionary<string, string>(metadata ?? new Dictionary<string, string>())
        {
            ["format"] = "pt",
            [Nn.Architecture.MetadataKey] = Nn.Architecture.ToJson(network.Model),
            [ClassesKey] = string.Join('\n', classNames),
        };
        network.SaveWeights(path, all);
    }

    /// <summary>Class probabilities of every image (n × <see cref="InputShape"/> values, NCHW) into n × <see cref="Classes"/>.</summary>
    /// <exception cref="ArgumentException">The images are not whole, or the output is too short.</exception>
    public void Predict(ReadOnlySpan<float> images, Span<float> probabilities)
    {
        lock (gate) Network.Predict(images, probabilities);
    }

    /// <summary>Class probabilities of every image, as a new array.</summary>
    public float[] Predict(ReadOnlySpan<float> images)
    {
        var result = new float[images.Length / InputShape.Size * Classes];
        Predict(images, result);
        return result;
    }

    /// <summary>The <paramref name="count"/> most probable classes of one image's probabilities, best first.</summary>
    public IReadOnlyList<(string Name, int Class, float Probability)> Top(ReadOnlySpan<float> probabilities, int count = 3)
    {
        var order = Enumerable.Range(0, Classes).ToArray();
        var p = probabilities[..Classes].ToArray();
        Array.Sort(order, (a, b) => p[b].CompareTo(p[a]) != 0 ? p[b].CompareTo(p[a]) : a.CompareTo(b));
        return [.. order.Take(Math.Clamp(count, 0, Classes)).Select(c => (ClassNames[c], c, p[c]))];
    }

    public void Dispose() => Network.Dispose();
}
