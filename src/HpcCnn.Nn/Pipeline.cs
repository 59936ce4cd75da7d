using HpcCnn.Problems;

namespace HpcCnn.Nn;

/// <summary>The steps and buffers of a network for one batch size, in training or evaluation mode, and its loss plans.</summary>
internal sealed class Pipeline : IDisposable
{
    private readonly LayerStep[] steps;
    private readonly SoftmaxPlan softmax;
    private readonly SoftmaxPlan? softmaxBackward;
    private readonly DeviceBuffer loss;
    private readonly DeviceBuffer? diffLogits;
    private readonly float[] lossValue = new float[1];

    public Pipeline(Network network, Parameter[][] parameters, int batch, bool training, int firstTrainable)
    {
        var model = network.Model;
        var backend = network.Backend;
        Batch = batch;
        steps = new LayerStep[model.Count];
        try
        {
            Input = backend.Allocate(batch * model.InputShape.Size);
            Labels = backend.Allocate(batch);
            var input = Input;
            for (int i = 0; i < model.Count; i++)
            {
                var layer = model[i];
                var next = i + 1 < model.Count ? model[i + 1] : null;
                bool fuses = layer is Conv2d or Dense && next is ActivationLayer;
                bool fusedAway = model[i] is ActivationLayer && i > 0 && model[i - 1] is Conv2d or Dense;
                var context = new StepContext
                {
                    Backend = backend,
                    Batch = batch,
                    InputShape = model.InputShapeOf(i),
                    OutputShape = model.OutputShapeOf(i),
                    Input = input,
                    Parameters = parameters[i],
                    FusedActivation = fuses ? ((ActivationLayer)next!).Function : Activation.None,
                    FusedAlpha = fuses ? ((ActivationLayer)next!).Alpha : 0f,
                    Training = training,
                    NeedsInputGradient = training && i > firstTrainable,
                    Seed = Initialization.Mix(network.Seed + (ulong)i + 1),
                };
                steps[i] = fusedAway ? new PassThroughStep(context) : layer.CreateStep(context);
                input = steps[i].Output;
            }
            var problem = new SoftmaxProblem { Batch = batch, Classes = network.Classes, Direction = Direction.ForwardTraining };
            softmax = backend.CreateSoftmaxPlan(problem);
            ProbabilitiesBuffer = backend.Allocate(batch * network.Classes);
            loss = backend.Allocate(1);
            if (training)
            {
                softmaxBackward = backend.CreateSoftmaxPlan(problem with { Direction = Direction.BackwardData });
                diffLogits = backend.Allocate(batch * network.Classes);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public int Batch { get; }
    public DeviceBuffer Input { get; } = null!;
    public DeviceBuffer Labels { get; } = null!;
    public DeviceBuffer ProbabilitiesBuffer { get; } = null!;

    public DeviceBuffer OutputOf(int layer) => steps[layer].Output;

    public void Forward(long step)
    {
        foreach (var s in steps) s.Forward(step);
    }

    /// <summary>Softmax and the mean loss of the uploaded labels (read back: one float).</summary>
    public float Loss()
    {
        softmax.Forward(steps[^1].Output, ProbabilitiesBuffer, Labels, loss);
        loss.Download(lossValue);
        return lossValue[0];
    }

    /// <summary>Softmax only.</summary>
    public void Probabilities() => softmax.Forward(steps[^1].Output, ProbabilitiesBuffer);

    public void Backward(long step, int firstTrainable)
    {
        softmaxBackward!.Backward(ProbabilitiesBuffer, Labels, diffLogits!);
        var diff = diffLogits!;
        for (int i = steps.Length - 1; i >= firstTrainable && i >= 0; i--)
        {
            steps[i].Backward(diff, step);
            if (i > firstTrainable) diff = steps[i].DiffInput!;
        }
    }

    public void Dispose()
    {
        foreach (var s in steps) s?.Dispose();
        softmax?.Dispose();
        softmaxBackward?.Dispose();
        Input?.Dispose();
        Labels?.Dispose();
        ProbabilitiesBuffer?.Dispose();
        loss?.Dispose();
        diffLogits?.Dispose();
    }
}
