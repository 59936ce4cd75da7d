namespace HpcCnn.Problems;

/// <summary>A problem in the benchdnn-style text form shared by tests, <c>hpccnn check</c> and the benchmarks.</summary>
public abstract record Problem
{
    /// <summary>Optional name, written as <c>n"name"</c> in the text form.</summary>
    public string? Name { get; init; }

    /// <summary>Number of input elements (NCHW).</summary>
    public abstract long InputLength { get; }

    /// <summary>Number of output elements (NCHW).</summary>
    public abstract long OutputLength { get; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the property and the rule when the problem is invalid.</summary>
    public abstract void Validate();

    /// <summary>The canonical text form, which <c>Parse</c> reads back into an equal problem.</summary>
    public abstract override string ToString();

    /// <summary>The name if there is one, else the text form.</summary>
    public string DisplayName => Name ?? ToString();

    /// <summary>The same problem with another minibatch (benchdnn's <c>--mb=N</c>).</summary>
    internal abstract Problem WithBatch(int batch);

    private protected static void RequireRange(long value, long minimum, string name)
    {
        if (value < minimum)
            throw new ArgumentOutOfRangeException(name, value,
                $"{name} must be {(minimum > 0 ? "positive" : "non-negative")}, got {value}");
    }

    private protected static void RequireSpanLength(long length, string what)
    {
        if (length > Array.MaxLength)
            throw new ArgumentOutOfRangeException(what, length, $"{what} has {length} elements, more than a span can hold");
    }
}
