namespace HpcCnn.Nn;

/// <summary>What <see cref="Network.LoadWeights"/> did: the names it loaded and those it could not match.</summary>
public sealed record WeightsReport(IReadOnlyList<string> Loaded, IReadOnlyList<string> Missing, IReadOnlyList<string> Unexpected);

public sealed partial class Network
{
    /// <summary>
    /// Writes every parameter to a safetensors file under its name (<c>conv1.weight</c>, KCRS;
    /// <c>fc1.weight</c>, out × in: PyTorch's layouts), with <paramref name="metadata"/>.
    /// </summary>
    public void SaveWeights(string path, IReadOnlyDictionary<string, string>? metadata = null) =>
        SafeTensors.Save(path, Parameters.Select(p => new NamedTensor(p.Name, [.. p.Shape], p.Download())), metadata);

    /// <summary>
    /// Loads parameters by name from a safetensors file. Unless allowed, a parameter the file lacks
    /// or a tensor the network lacks is an error listing them all; a shape that differs always is.
    /// Returns the file's metadata and what was matched.
    /// </summary>
    /// <exception cref="InvalidDataException">The file is malformed, a shape differs, or names do not match (as above).</exception>
    public (WeightsReport Report, IReadOnlyDictionary<string, string> Metadata) LoadWeights(string path, bool allowMissing = false, bool allowUnexpected = false)
    {
        var (tensors, metadata) = SafeTensors.Load(path);
        var byTensorName = tensors.ToDictionary(t => t.Name);
        var missing = Parameters.Where(p => !byTensorName.ContainsKey(p.Name)).Select(p => p.Name).ToList();
        var unexpected = tensors.Where(t => !byName.ContainsKey(t.Name)).Select(t => t.Name).ToList();
        var problems = new List<string>();
        if (missing.Count > 0 && !allowMissing) problems.Add($"missing {string.Join(", ", missing)}");
        if (unexpected.Count > 0 && !allowUnexpected) problems.Add($"unexpected {string.Join(", ", unexpected)}");
        foreach (var p in Parameters)
            if (byTensorName.TryGetValue(p.Name, out var t) && !t.Shape.SequenceEqual(p.Shape))
                problems.Add($"{p.Name} is [{string.Join(", ", t.Shape)}] in the file, [{string.Join(", ", p.Shape)}] in the network");
        if (problems.Count > 0) throw new InvalidDataException($"{path}: the weights do not fit the network: {string.Join("; ", problems)}");
        var loaded = new List<string>();
        foreach (var p in Parameters)
            if (byTensorName.TryGetValue(p.Name, out var t))
            {
                p.Upload(t.Values);
                loaded.Add(p.Name);
            }
        return (new WeightsReport(loaded, missing, unexpected), metadata);
    }
}
