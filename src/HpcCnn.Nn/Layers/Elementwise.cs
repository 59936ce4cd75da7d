using HpcCnn.Problems;

namespace HpcCnn.Nn;

/// <summary>An activation function applied to every element; fused into a convolution or dense layer right before it.</summary>
public abstract class ActivationLayer : Layer
{
    private protected ActivationLayer(Activation function, float alpha, string? name) : base(name)
    {
        Function = function;
        Alpha = alpha;
    }

    public Activation Function { get; }
    /// <summary>LeakyReLU's slope.</summary>
    public float Alpha { get; }

    internal override string NamePrefix => Function.ToString().ToLowerInvariant();

    public override TensorShape OutputShape(TensorShape input)
    {
        if (Function == Activation.LeakyRelu && !(float.IsFinite(Alpha) && Alpha >= 0))
            throw Invalid(input, $"the LeakyReLU slope {Alpha} must be finite and at least 0 (the backward pass reads the output's sign)");
        return input;
    }

    public override string Describe(TensorShape input) => Function == Activation.LeakyRelu ? $"leaky relu {Alpha:0.###}" : Function.ToString().ToLowerInvariant();

    internal override LayerStep CreateStep(StepContext context) => new EltwiseStep(context, Function, Alpha);
}

public sealed class ReLU(string? name = null) : ActivationLayer(Activation.Relu, 0f, name);

public sealed class LeakyReLU(float slope = 0.01f, string? name = null) : ActivationLayer(Activation.LeakyRelu, slope, name);

public sealed class Tanh(string? name = null) : ActivationLayer(Activation.Tanh, 0f, name);

public sealed class Sigmoid(string? name = null) : ActivationLayer(Activation.Sigmoid, 0f, name);

/// <summary>A standalone activation: y = f(x); backward dx = f'(from y)·dy.</summary>
internal sealed class EltwiseStep : LayerStep
{
    private readonly StepContext context;
    private readonly EltwisePlan forward;
    private readonly EltwisePlan? backward;

    public EltwiseStep(StepContext context, Activation function, float alpha)
    {
        this.context = context;
        long length = context.Batch * context.InputShape.Size;
        try
        {
            forward = context.Backend.CreateEltwisePlan(new EltwiseProblem
            {
                Activation = function, Alpha = alpha, Length = length,
                Direction = context.Training ? Direction.ForwardTraining : Direction.ForwardInference,
            });
            Output = context.Backend.Allocate(length);
            if (context.Training && context.NeedsInputGradient)
            {
                backward = context.Backend.CreateEltwisePlan(new EltwiseProblem
                    { Activation = function, Alpha = alpha, Length = length, Direction = Direction.BackwardData });
                DiffInput = context.Backend.Allocate(length);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public override void Forward(long step) => forward.Forward(context.Input, Output);

    public override void Backward(DeviceBuffer diffOutput, long step) => backward?.Backward(Output, diffOutput, DiffInput!);

    public override void Dispose()
    {
        forward?.Dispose();
        backward?.Dispose();
        Output?.Dispose();
        DiffInput?.Dispose();
    }
}
