namespace HpcCnn.Tests;

public class EltwiseCrossBackendTests
{
    [Theory]
    [MemberData(nameof(RandomProblems.Seeds), MemberType = typeof(RandomProblems))]
    public void Random_problem_matches_oracle(int seed) => CheckRandom(seed, TestBackends.UnderTest());

    /// <summary>A seeded random operation, alpha and length, integer and real fills, on each backend.</summary>
    internal static void CheckRandom(int seed, IEnumerable<Backend> backends)
    {
        var random = new Random(3000 + seed);
        var op = (EltwiseOp)random.Next(4);
        float alpha = op == EltwiseOp.LeakyRelu ? (float)random.NextDouble() : 0f;
        // Mostly short, sometimes long enough for the native code to use several threads.
        int length = random.Next(10) == 0 ? random.Next(65536, 200000) : random.Next(0, 300);
        TestBackends.AssertAllPassed(backends.SelectMany(backend => new[]
        {
            CrossCheck.Eltwise(backend, op, alpha, length, FillKind.SmallIntegers, seed),
            CrossCheck.Eltwise(backend, op, alpha, length, FillKind.Real, seed),
        }));
    }

    [Theory]
    [InlineData(EltwiseOp.Relu)]
    [InlineData(EltwiseOp.LeakyRelu)]
    [InlineData(EltwiseOp.Tanh)]
    [InlineData(EltwiseOp.Sigmoid)]
    public void In_place_equals_out_of_place(EltwiseOp op)
    {
        foreach (var backend in TestBackends.UnderTest()) InPlaceEqualsOutOfPlace(backend, op);
    }

    internal static void InPlaceEqualsOutOfPlace(Backend backend, EltwiseOp op)
    {
        var data = Fill.Values(1000, FillKind.Real, new Random(4), 1f);
        var expected = new float[data.Length];
        backend.Eltwise(op, data, expected, alpha: 0.2f);
        var inPlace = (float[])data.Clone();
        backend.Eltwise(op, inPlace, inPlace, alpha: 0.2f);
        Assert.Equal(expected, inPlace);
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
        backend.Eltwise(EltwiseOp.Sigmoid, x, sigmoid);
        Assert.Equal([0f, 0f, 1f, 1f, 0.5f, 0.5f], sigmoid.Select(v => MathF.Round(v, 6)));
        var tanh = new float[x.Length];
        backend.Eltwise(EltwiseOp.Tanh, x, tanh);
        Assert.Equal([-1f, -1f, 1f, 1f], tanh[..4]);
    }
}
