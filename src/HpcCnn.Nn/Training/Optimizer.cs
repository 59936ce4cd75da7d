using HpcCnn.Training;

namespace HpcCnn.Nn;

/// <summary>
/// Updates a network's trainable parameters from their gradients, on the network's backend,
/// keeping its state (momentum, moments) in buffers there. Frozen parameters are left alone.
/// </summary>
public abstract class Optimizer : IDisposable
{
    private readonly Dictionary<Parameter, DeviceBuffer[]> state = [];

    /// <summary>The step size used by the next update (a schedule sets it each epoch).</summary>
    public abstract float LearningRate { get; set; }

    /// <summary>Updates done so far.</summary>
    public long Updates { get; private set; }

    /// <summary>One update of every trainable parameter of <paramref name="network"/>.</summary>
    public void Step(Network network)
    {
        ArgumentNullException.ThrowIfNull(network);
        Updates++;
        foreach (var p in network.Parameters)
        {
            if (p.Frozen) continue;
            if (!state.TryGetValue(p, out var buffers))
            {
                buffers = new DeviceBuffer[StateBuffers];
                for (int i = 0; i < buffers.Length; i++)
                {
                    buffers[i] = network.Backend.Allocate(p.Length);
                    buffers[i].Upload(new float[p.Length]);
                }
                state[p] = buffers;
            }
            Update(network.Backend, p, buffers);
            p.MarkChanged();
        }
    }

    private protected abstract int StateBuffers { get; }

    private protected abstract void Update(Backend backend, Parameter parameter, DeviceBuffer[] state);

    public void Dispose()
    {
        foreach (var buffers in state.Values)
            foreach (var b in buffers) b.Dispose();
        state.Clear();
        GC.SuppressFinalize(this);
    }
}

/// <summary>SGD with optional momentum, Nesterov momentum and weight decay (see <see cref="Sgd"/>).</summary>
public sealed class SgdOptimizer(Sgd settings) : Optimizer
{
    private Sgd settings = Validated(settings);

    public Sgd Settings => settings;

    public override float LearningRate
    {
        get => settings.LearningRate;
        set => settings = Validated(settings with { LearningRate = value });
    }

    private protected override int StateBuffers => settings.NeedsVelocity ? 1 : 0;

    private protected override void Update(Backend backend, Parameter parameter, DeviceBuffer[] state) =>
        backend.Update(settings, parameter.Value, parameter.Gradient, state.Length > 0 ? state[0] : null);

    private static Sgd Validated(Sgd s)
    {
        ArgumentNullException.ThrowIfNull(s);
        s.Validate();
        return s;
    }
}

/// <summary>Adam with bias correction (see <see cref="Adam"/>).</summary>
public sealed class AdamOptimizer(Adam settings) : Optimizer
{
    private Adam settings = Validated(settings);

    public Adam Settings => settings;

    public override float LearningRate
    {
        get => settings.LearningRate;
        set => settings = Validated(settings with { LearningRate = value });
    }

    private protected override int StateBuffers => 2;

    private protected override void Update(Backend backend, Parameter parameter, DeviceBuffer[] state) =>
        backend.Update(settings, Updates, parameter.Value, parameter.Gradient, state[0], state[1]);

    private static Adam Validated(Adam a)
    {
        ArgumentNullException.ThrowIfNull(a);
        a.Validate();
        return a;
    }
}

/// <summary>The learning rate of each epoch, from the optimizer's starting rate.</summary>
public abstract record LearningRateSchedule
{
    /// <summary>The rate for <paramref name="epoch"/> (counting from 0).</summary>
    public abstract float Rate(float initial, int epoch);

    /// <summary>The same rate throughout.</summary>
    public static LearningRateSchedule Constant { get; } = new ConstantSchedule();

    /// <summary>Multiplies the rate by <paramref name="gamma"/> every <paramref name="epochs"/> epochs (PyTorch's StepLR).</summary>
    public static LearningRateSchedule Step(int epochs, float gamma = 0.1f) => new StepSchedule(epochs, gamma);

    /// <summary>Half a cosine from the starting rate down to <paramref name="minimum"/> over <paramref name="epochs"/> epochs (PyTorch's CosineAnnealingLR).</summary>
    public static LearningRateSchedule Cosine(int epochs, float minimum = 0f) => new CosineSchedule(epochs, minimum);

    /// <summary>Parses <c>constant</c>, <c>step:N[:GAMMA]</c> or <c>cosine</c> (over <paramref name="epochs"/>).</summary>
    /// <exception cref="FormatException">None of those.</exception>
    public static LearningRateSchedule Parse(string text, int epochs)
    {
        var parts = text.Split(':');
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        return parts[0] switch
        {
            "constant" when parts.Length == 1 => Constant,
            "cosine" when parts.Length == 1 => Cosine(epochs),
            "step" when parts.Length is 2 or 3 && int.TryParse(parts[1], inv, out int n) && n > 0 =>
                parts.Length == 2 ? Step(n) : float.TryParse(parts[2], inv, out float g) && g > 0 ? Step(n, g) : throw Bad(),
            _ => throw Bad(),
        };
        FormatException Bad() => new($"'{text}' is not a schedule: constant, cosine, step:EPOCHS or step:EPOCHS:GAMMA");
    }

    private sealed record ConstantSchedule : LearningRateSchedule
    {
        public override float Rate(float initial, int epoch) => initial;
        public override string ToString() => "constant";
    }

    private sealed record StepSchedule(int Epochs, float Gamma) : LearningRateSchedule
    {
        public override float Rate(float initial, int epoch) => (float)(initial * Math.Pow(Gamma, epoch / Math.Max(Epochs, 1)));
        public override string ToString() => $"step:{Epochs}:{Gamma}";
    }

    private sealed record CosineSchedule(int Epochs, float Minimum) : LearningRateSchedule
    {
        public override float Rate(float initial, int epoch) =>
            (float)(Minimum + (initial - Minimum) * (1 + Math.Cos(Math.PI * Math.Min(epoch, Epochs) / Math.Max(Epochs, 1))) / 2);
        public override string ToString() => "cosine";
    }
}
