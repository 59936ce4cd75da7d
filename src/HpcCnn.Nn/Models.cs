namespace HpcCnn.Nn;

/// <summary>Ready-made models for 28 × 28 grey-scale images (MNIST, Fashion-MNIST).</summary>
public static class Models
{
    /// <summary>The names <see cref="Create"/> knows.</summary>
    public static IReadOnlyList<string> Names { get; } = ["lenet5", "strong", "cam"];

    public static readonly TensorShape MnistShape = new(1, 28, 28);

    /// <summary>A model by name.</summary>
    /// <exception cref="ArgumentException">An unknown name; the message lists the known ones.</exception>
    public static Sequential Create(string name, int classes = 10, TensorShape? input = null) => name switch
    {
        "lenet5" => LeNet5(classes, input),
        "strong" => Strong(classes, input),
        "cam" => Cam(classes, input),
        _ => throw new ArgumentException($"unknown model '{name}'; known: {string.Join(", ", Names)}", nameof(name)),
    };

    /// <summary>
    /// LeNet-5 as first CNN tutorials write it: conv 1→6 5×5 pad 2, ReLU, max pool 2; conv 6→16
    /// 5×5, ReLU, max pool 2; dense 400→120→84→classes with ReLU between.
    /// </summary>
    public static Sequential LeNet5(int classes = 10, TensorShape? input = null) => new(input ?? MnistShape,
        new Conv2d(6, 5, padding: 2), new ReLU(), new MaxPool2d(2),
        new Conv2d(16, 5), new ReLU(), new MaxPool2d(2),
        new Flatten(),
        new Dense(120), new ReLU(),
        new Dense(84), new ReLU(),
        new Dense(classes));

    /// <summary>
    /// A small modern CNN: two stages of two 3×3 convolutions (32 then 64 filters, ReLU) each ending
    /// in max pooling, dropout 0.25, dense 3136→128 with ReLU, dropout 0.5, dense 128→classes.
    /// </summary>
    public static Sequential Strong(int classes = 10, TensorShape? input = null) => new(input ?? MnistShape,
        new Conv2d(32, 3, padding: 1), new ReLU(), new Conv2d(32, 3, padding: 1), new ReLU(), new MaxPool2d(2),
        new Conv2d(64, 3, padding: 1), new ReLU(), new Conv2d(64, 3, padding: 1), new ReLU(), new MaxPool2d(2),
        new Dropout(0.25f), new Flatten(),
        new Dense(128), new ReLU(), new Dropout(0.5f),
        new Dense(classes));

    /// <summary>
    /// A model for class activation maps: conv 32 3×3, ReLU, max pool 2; conv 64 3×3, ReLU; conv
    /// 64 3×3, ReLU (14×14 feature maps on 28×28 images); global average pooling; dense → classes.
    /// </summary>
    public static Sequential Cam(int classes = 10, TensorShape? input = null) => new(input ?? MnistShape,
        new Conv2d(32, 3, padding: 1), new ReLU(), new MaxPool2d(2),
        new Conv2d(64, 3, padding: 1), new ReLU(),
        new Conv2d(64, 3, padding: 1), new ReLU(),
        new GlobalAvgPool(), new Flatten(), new Dense(classes));
}
