using HpcCnn.Problems;

namespace HpcCnn;

/// <summary>Argument checks at the managed boundary, made before any native call (which checks again).</summary>
internal static class Guard
{
    public static void Length(long length, long required, string parameter)
    {
        if (length < required)
            throw new ArgumentException($"{parameter} holds {length} elements but the problem needs at least {required}", parameter);
    }

    public static void NoOverlap(ReadOnlySpan<float> input, ReadOnlySpan<float> output)
    {
        if (input.Overlaps(output))
            throw new ArgumentException("input and output must not overlap", nameof(output));
    }

    /// <summary>Weights are optional at creation (given later with SetWeights), and only for the directions that use them.</summary>
    public static void LayerParameters<T>(T problem, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias) where T : Problem, IWeightedProblem
    {
        ArgumentNullException.ThrowIfNull(problem);
        problem.Validate();
        if (problem.Direction.IsBackwardWeights())
        {
            if (!weights.IsEmpty || !bias.IsEmpty)
                throw new ArgumentException($"{DirectionText.Name(problem.Direction)} {problem.Operation.Driver} plans take no weights", nameof(weights));
            return;
        }
        if (weights.IsEmpty && !bias.IsEmpty) throw new ArgumentException("a bias was given without weights", nameof(bias));
        if (!weights.IsEmpty) Length(weights.Length, problem.WeightsLength, nameof(weights));
        if (!bias.IsEmpty) Length(bias.Length, problem.BiasLength, nameof(bias));
    }

    public static void Eltwise(Activation activation, float alpha, ReadOnlySpan<float> input, ReadOnlySpan<float> output)
    {
        if (!Enum.IsDefined(activation)) throw new ArgumentOutOfRangeException(nameof(activation), activation, "unknown activation");
        if (activation == Activation.LeakyRelu && !float.IsFinite(alpha))
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "alpha must be finite");
        Length(output.Length, input.Length, nameof(output));
        // In place (the same start) is allowed; any other overlap would read values already overwritten.
        if (input.Overlaps(output, out int offset) && offset != 0)
            throw new ArgumentException("input and output must be the same span or not overlap", nameof(output));
    }
}
