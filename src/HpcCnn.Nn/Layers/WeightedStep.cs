using HpcCnn.Problems;

namespace HpcCnn.Nn;

/// <summary>
/// The step of a layer with weights (convolution, dense): a forward plan, and for training a
/// backward-data plan (unless the input needs no gradient) and a backward-weights plan. Plans that
/// keep packed weights are given new ones only when a parameter has changed since (or, with
/// DropConnect, when the step and so the mask has).
/// </summary>
internal sealed class WeightedStep<TProblem> : LayerStep where TProblem : Problem, IWeightedProblem
{
    private readonly StepContext context;
    private readonly LayerPlan<TProblem> forward;
    private readonly LayerPlan<TProblem>? backwardData;
    private readonly LayerPlan<TProblem>? backwardWeights;
    private readonly Parameter weight;
    private readonly Parameter? bias;
    private readonly Training.DropoutMask? dropConnect;
    private readonly DeviceBuffer? maskedWeights;
    private readonly Dictionary<LayerPlan<TProblem>, (long Weight, long Bias, long Mask)> loaded = [];
    private readonly List<IDisposable> owned = [];

    public WeightedStep(StepContext context, Func<Direction, TProblem> problem, Func<TProblem, LayerPlan<TProblem>> createPlan,
        float dropConnectRate)
    {
        this.context = context;
        weight = context.Parameters[0];
        bias = context.Parameters.Count > 1 ? context.Parameters[1] : null;
        try
        {
            forward = Own(createPlan(problem(context.Training ? Direction.ForwardTraining : Direction.ForwardInference)));
            Output = Own(context.Backend.Allocate(context.Batch * context.OutputShape.Size));
            if (context.Training)
            {
                if (context.NeedsInputGradient)
                {
                    backwardData = Own(createPlan(problem(Direction.BackwardData)));
                    DiffInput = Own(context.Backend.Allocate(context.Batch * context.InputShape.Size));
                }
                backwardWeights = Own(createPlan(problem(bias is null ? Direction.BackwardWeights : Direction.BackwardWeightsAndBias)));
                if (dropConnectRate > 0)
                {
                    dropConnect = new Training.DropoutMask(dropConnectRate, context.Seed);
                    maskedWeights = Own(context.Backend.Allocate(weight.Length));
                }
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    private DeviceBuffer? ActivatedOutput => context.FusedActivation == Activation.None ? null : Output;

    public override void Forward(long step)
    {
        Load(forward, step);
        forward.Forward(context.Input, Output);
    }

    public override void Backward(DeviceBuffer diffOutput, long step)
    {
        if (!weight.Frozen || (bias is not null && !bias.Frozen))
        {
            backwardWeights!.BackwardWeights(context.Input, diffOutput, weight.Gradient, bias?.Gradient, ActivatedOutput);
            // d(mask·w·scale)/dw = mask·scale: the gradient goes through the same mask.
            if (dropConnect is not null) context.Backend.DropoutBackward(dropConnect, step, weight.Gradient, weight.Gradient);
        }
        if (backwardData is not null)
        {
            Load(backwardData, step);
            backwardData.BackwardData(diffOutput, DiffInput!, ActivatedOutput);
        }
    }

    private void Load(LayerPlan<TProblem> plan, long step)
    {
        long mask = dropConnect is null ? -1 : step;
        var wanted = (weight.Version, bias?.Version ?? -1, mask);
        if (loaded.TryGetValue(plan, out var have) && have == wanted) return;
        var values = weight.Value;
        if (dropConnect is not null)
        {
            context.Backend.DropoutForward(dropConnect, step, weight.Value, maskedWeights!);
            values = maskedWeights!;
        }
        plan.SetWeights(values, bias?.Value);
        loaded[plan] = wanted;
    }

    private T Own<T>(T disposable) where T : IDisposable
    {
        owned.Add(disposable);
        return disposable;
    }

    public override void Dispose()
    {
        foreach (var d in owned) d.Dispose();
        owned.Clear();
    }
}
