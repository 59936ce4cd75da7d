namespace HpcCnn.Problems;

/// <summary>A problem in the benchdnn-style text form shared by tests, <c>hpccnn check</c> and the benchmarks.</summary>
public abstract record Problem
{
    /// <summary>Optional name, written as <c>n"name"</c> in the text form.</summary>
    public string? Name { get; init; }

    /// <summary>What a plan for this problem computes (benchdnn's <c>--dir=</c>); forward inference by default.</summary>
    public Direction Direction { get; init; }

    /// <summary>The operation this is a problem of: how it is parsed, checked, counted and run.</summary>
    public abstract Operation Operation { get; }

    /// <summary>Number of input elements (NCHW).</summary>
    public abstract long InputLength { get; }

    /// <summary>Number of output elements (NCHW).</summary>
    public abstract long OutputLength { get; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the property and the rule when the problem is invalid.</summary>
    public abstract void Validate();

    /// <summary>The canonical text form, which <c>Parse</c> reads back into an equal problem.</summary>
    public abstract override string ToString();

    /// <summary>The name, followed by the direction unless forward inference, or the text when unnamed.</summary>
    public string DisplayName =>
        Name is null ? ToString() : Direction == Direction.ForwardInference ? Name : $"{Name} {DirectionText.Name(Direction)}";

    /// <summary>The same problem with another minibatch (benchdnn's <c>--mb=N</c>).</summary>
    internal abstract Problem WithBatch(int batch);

    /// <summary>
    /// How the text form starts: the driver (<c>--ip </c>, <c>--eltwise </c>) unless the suite reader
    /// tells it from the descriptor (convolution and pooling), then <c>--dir=X </c> for any direction
    /// but forward inference.
    /// </summary>
    private protected string TextPrefix =>
        (Operation == Operation.Conv || Operation == Operation.Pool ? "" : $"--{Operation.Driver} ") +
        (Direction == Direction.ForwardInference ? "" : $"--dir={DirectionText.Name(Direction)} ");

    /// <summary>Fails unless the operation has the direction.</summary>
    private protected void RequireDirection()
    {
        if (!Enum.IsDefined(Direction)) throw new ArgumentOutOfRangeException(nameof(Direction), Direction, "unknown direction");
        if (!Operation.Directions.Contains(Direction))
            throw new ArgumentOutOfRangeException(nameof(Direction), Direction,
                $"{Operation.Driver} has no {DirectionText.Name(Direction)} direction (it has {string.Join(", ", Operation.Directions.Select(DirectionText.Name))})");
    }

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
