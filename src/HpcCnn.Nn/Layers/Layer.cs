namespace HpcCnn.Nn;

/// <summary>
/// One layer of a <see cref="Sequential"/> model: a description (sizes, options, a name) that a
/// <see cref="Network"/> turns into plans on a backend. Layers without a name are named by the
/// model the way PyTorch tutorials name them: <c>conv1</c>, <c>pool1</c>, <c>fc1</c>, ...
/// </summary>
public abstract class Layer
{
    private protected Layer(string? name) => Name = name;

    /// <summary>The layer's name; parameters are called <c>{Name}.weight</c> and <c>{Name}.bias</c>.</summary>
    public string? Name { get; internal set; }

    /// <summary>The stem of generated names (conv, pool, fc, relu, dropout, flatten).</summary>
    internal abstract string NamePrefix { get; }

    /// <summary>The shape this layer makes of <paramref name="input"/>.</summary>
    /// <exception cref="ArgumentException">The layer cannot take that input; the message names the layer.</exception>
    public abstract TensorShape OutputShape(TensorShape input);

    /// <summary>A short description for model summaries, e.g. <c>conv 1→6 5×5 pad 2</c>.</summary>
    public abstract string Describe(TensorShape input);

    /// <summary>The layer's trainable tensors for <paramref name="input"/>.</summary>
    internal virtual IReadOnlyList<ParameterSpec> Parameters(TensorShape input) => [];

    /// <summary>Makes the layer's plans and buffers for one batch size on a backend.</summary>
    internal abstract LayerStep CreateStep(StepContext context);

    private protected ArgumentException Invalid(TensorShape input, string rule) =>
        new($"layer {Name ?? NamePrefix} ({GetType().Name}) cannot take a {input} input: {rule}");

    /// <summary>Validates the kernel problem this layer makes of <paramref name="input"/>, naming the layer on failure.</summary>
    private protected void Require(Problems.Problem problem, TensorShape input)
    {
        try
        {
            problem.Validate();
        }
        catch (ArgumentException e)
        {
            throw Invalid(input, e.Message);
        }
    }
}

/// <summary>A trainable tensor a layer declares: weight or bias, shape and initialisation.</summary>
internal sealed record ParameterSpec(string Suffix, int[] Shape, long FanIn, long FanOut, bool IsBias);

/// <summary>What a layer needs to make its plans for one batch size.</summary>
internal sealed class StepContext
{
    public required Backend Backend { get; init; }
    public required int Batch { get; init; }
    public required TensorShape InputShape { get; init; }
    public required TensorShape OutputShape { get; init; }
    /// <summary>The previous step's output (or the network's input buffer).</summary>
    public required DeviceBuffer Input { get; init; }
    /// <summary>The layer's parameters, in the order of <see cref="Layer.Parameters"/>.</summary>
    public required IReadOnlyList<Parameter> Parameters { get; init; }
    /// <summary>An activation the next layer asks this one to fuse (None when none).</summary>
    public Problems.Activation FusedActivation { get; init; }
    public float FusedAlpha { get; init; }
    /// <summary>Whether the step must run backward (plans for training).</summary>
    public required bool Training { get; init; }
    /// <summary>Whether the backward pass must produce dL/dinput (false for the first trainable layer).</summary>
    public required bool NeedsInputGradient { get; init; }
    /// <summary>Key of this layer's random masks (dropout, DropConnect).</summary>
    public required ulong Seed { get; init; }
}

/// <summary>
/// A layer made concrete for one batch size: its plans and its output buffer. The input buffer is
/// fixed at creation, so a network's steps form a chain of buffers that never moves.
/// </summary>
internal abstract class LayerStep : IDisposable
{
    /// <summary>The forward output (may be the input buffer itself for layers that change nothing).</summary>
    public DeviceBuffer Output { get; protected init; } = null!;

    /// <summary>dL/dinput after <see cref="Backward"/> (null when not needed).</summary>
    public DeviceBuffer? DiffInput { get; protected set; }

    /// <summary>Computes <see cref="Output"/>; <paramref name="step"/> keys random masks.</summary>
    public abstract void Forward(long step);

    /// <summary>From dL/doutput: the parameters' gradients and <see cref="DiffInput"/>.</summary>
    public abstract void Backward(DeviceBuffer diffOutput, long step);

    public virtual void Dispose() { }
}

/// <summary>A step whose output is its input: Flatten, an activation fused into the layer before it, dropout in evaluation.</summary>
internal sealed class PassThroughStep : LayerStep
{
    private readonly bool needsInputGradient;

    public PassThroughStep(StepContext context)
    {
        Output = context.Input;
        needsInputGradient = context.NeedsInputGradient;
    }

    public override void Forward(long step) { }

    /// <summary>Hands dL/doutput on unchanged.</summary>
    public override void Backward(DeviceBuffer diffOutput, long step) => DiffInput = needsInputGradient ? diffOutput : null;
}
