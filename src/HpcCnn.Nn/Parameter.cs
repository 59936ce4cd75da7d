namespace HpcCnn.Nn;

/// <summary>
/// A trainable tensor of a <see cref="Network"/> (a layer's weights or bias), named the way PyTorch
/// names them (<c>conv1.weight</c>, <c>fc3.bias</c>) and shaped as PyTorch keeps them (KCRS
/// convolution weights, out × in dense weights). Its value and gradient live in buffers of the
/// network's backend.
/// </summary>
public sealed class Parameter
{
    internal Parameter(string name, int[] shape, DeviceBuffer value, DeviceBuffer gradient)
    {
        Name = name;
        Shape = shape;
        Value = value;
        Gradient = gradient;
    }

    public string Name { get; }
    /// <summary>Dimensions, outermost first.</summary>
    public IReadOnlyList<int> Shape { get; }
    public long Length => Value.Length;

    /// <summary>The values, on the network's backend.</summary>
    public DeviceBuffer Value { get; }

    /// <summary>dLoss/dValue of the last backward pass, on the network's backend.</summary>
    public DeviceBuffer Gradient { get; }

    /// <summary>A frozen parameter gets no gradient and no update.</summary>
    public bool Frozen { get; set; }

    /// <summary>Counts changes of <see cref="Value"/>, so plans that keep packed weights know when to repack.</summary>
    internal long Version { get; private set; }

    /// <summary>Call after writing <see cref="Value"/> other than through <see cref="Upload"/>.</summary>
    public void MarkChanged() => Version++;

    /// <summary>A copy of the values.</summary>
    public float[] Download() => Value.ToArray();

    /// <summary>A copy of the last gradient.</summary>
    public float[] DownloadGradient() => Gradient.ToArray();

    /// <summary>Replaces the values.</summary>
    /// <exception cref="ArgumentException">The length differs from <see cref="Length"/>.</exception>
    public void Upload(ReadOnlySpan<float> values)
    {
        if (values.Length != Length)
            throw new ArgumentException($"{Name} holds {Length} values ({string.Join('x', Shape)}), not {values.Length}", nameof(values));
        Value.Upload(values);
        MarkChanged();
    }

    public override string ToString() => $"{Name} [{string.Join('x', Shape)}]";
}
