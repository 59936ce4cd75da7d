namespace HpcCnn.Tests;

public class EltwiseCrossBackendTests
{
    [Theory]
    [MemberData(nameof(RandomProblems.Seeds), MemberType = typeof(RandomProblems))]
    public void Random_problem_matches_oracle(int seed) => TestBackends.Check(RandomProblems.Eltwise(seed), seed, TestBackends.UnderTest());

    [Theory]
    [MemberData(nameof(RandomProblems.BackwardSeeds), MemberType = typeof(RandomProblems))]
    public void Random_backward_problem_matches_oracle(int seed) =>
        TestBackends.Check(RandomProblems.Eltwise(seed) with { Direction = Direction.BackwardData }, seed, TestBackends.UnderTest());

    [Theory]
    [InlineData(Activation.Relu)]
    [InlineData(Activation.LeakyRelu)]
    [InlineData(Activation.Tanh)]
    [InlineData(Activation.Sigmoid)]
    public void In_place_equals_out_of_place(Activation op)
    {
        foreach (var backend in TestBackends.UnderTest()) InPlaceEqualsOutOfPlace(backend, op);
    }

    internal static void InPlaceEqualsOutOfPlace(Backend backend, Activation op)
    {
        var data = Fill.Values(1000, FillKind.Real, new Random(4), 1f);
        var expected = new float[data.Length];
        backend.Eltwise(op, data, expected, alpha: 0.2f);
        var inPlace = (float[])data.Clone();
        backend.Eltwise(op, inPlace, inPlace, alpha: 0.2f);
        Assert.Equal(expected, inPlace);
        // Backward: dx may be dy itself.
        using var plan = backend.CreateEltwisePlan(new EltwiseProblem { Activation = op, Alpha = 0.2f, Length = data.Length, Direction = Direction.BackwardData });
        var dy = Fill.Values(data.Length, FillKind.Real, new Random(5));
        var dx = new float[data.Length];
        plan.Backward(expected, dy, dx);
        plan.Backward(expected, dy, dy);
        Assert.Equal(dx, dy);
    }

    [Fact]
    public void Extreme_inputs_stay_finite_and_saturate()
    {
        foreach (var backend in TestBackends.UnderTest()) ExtremeInputs(backend);
    }

    internal static void ExtremeInputs(Backend backend)
    {
        float[] x = [-1e30f, -100f, 100f, 1e30f, float.Epsilon, -0f];
        var sigmoid = new float[x.Length];
        backend.Eltwise(Activation.Sigmoid, x, sigmoid);
        Assert.Equal([0f, 0f, 1f, 1f, 0.5f, 0.5f], sigmoid.Select(v => MathF.Round(v, 6)));
        var tanh = new float[x.Length];
        backend.Eltwise(Activation.Tanh, x, tanh);
        Assert.Equal([-1f, -1f, 1f, 1f], tanh[..4]);
    }
}
