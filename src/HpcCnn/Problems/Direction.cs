namespace HpcCnn.Problems;

/// <summary>What a plan computes: oneDNN's propagation kinds, benchdnn's <c>--dir=</c>.</summary>
public enum Direction
{
    /// <summary>y from x (<c>FWD_I</c>).</summary>
    ForwardInference,
    /// <summary>y from x, saving what the backward pass needs, if anything (<c>FWD_D</c>; benchdnn's <c>FWD_B</c> reads as this).</summary>
    ForwardTraining,
    /// <summary>dL/dx from dL/dy (<c>BWD_D</c>).</summary>
    BackwardData,
    /// <summary>dL/dweights from x and dL/dy (<c>BWD_W</c>).</summary>
    BackwardWeights,
    /// <summary>dL/dweights and dL/dbias (<c>BWD_WB</c>).</summary>
    BackwardWeightsAndBias,
}

/// <summary>benchdnn's names of directions.</summary>
public static class DirectionText
{
    public static string Name(Direction direction) => direction switch
    {
        Direction.ForwardInference => "FWD_I",
        Direction.ForwardTraining => "FWD_D",
        Direction.BackwardData => "BWD_D",
        Direction.BackwardWeights => "BWD_W",
        Direction.BackwardWeightsAndBias => "BWD_WB",
        _ => throw new ArgumentOutOfRangeException(nameof(direction), direction, "unknown direction"),
    };

    /// <exception cref="FormatException">Not one of FWD_I, FWD_D, FWD_B, BWD_D, BWD_W, BWD_WB.</exception>
    public static Direction Parse(string text) => text.ToUpperInvariant() switch
    {
        "FWD_I" => Direction.ForwardInference,
        "FWD_D" or "FWD_B" => Direction.ForwardTraining,
        "BWD_D" => Direction.BackwardData,
        "BWD_W" => Direction.BackwardWeights,
        "BWD_WB" => Direction.BackwardWeightsAndBias,
        _ => throw new FormatException($"--dir={text} is not a direction (FWD_I, FWD_D, FWD_B, BWD_D, BWD_W, BWD_WB)"),
    };

    /// <summary>The backward-weights directions.</summary>
    public static bool IsBackwardWeights(this Direction direction) => direction is Direction.BackwardWeights or Direction.BackwardWeightsAndBias;

    /// <summary>The forward directions.</summary>
    public static bool IsForward(this Direction direction) => direction is Direction.ForwardInference or Direction.ForwardTraining;
}
