using ClipSearch.Core;

namespace ClipSearch.Web.Services;

/// <summary>A request needs a model and none is loaded (HTTP 503; <see cref="WebErrorCodes.NoModel"/>).</summary>
public sealed class ModelNotLoadedException : ClipSearchException
{
    /// <summary>Creates the exception with the standard message.</summary>
    public ModelNotLoadedException()
        : this("No model is loaded. Download CLIP ViT-B/32 on the Model tab or with POST /api/model/download {}, load a folder with POST /api/model/load {\"path\": \"/path/to/clip-vit-base-patch32\"}, or start with `clipsearch serve --model DIR`.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public ModelNotLoadedException(string message) : base(WebErrorCodes.NoModel, message) { }

    /// <summary>Creates the exception with a message and cause.</summary>
    public ModelNotLoadedException(string message, Exception? innerException) : base(WebErrorCodes.NoModel, message, null, innerException) { }
}
