using ClipSearch.Core;
using ClipSearch.Core.Model;

namespace ClipSearch.Hub;

/// <summary>
/// <c>clipsearch model download</c>: fetches a CLIP model folder from the Hub into the <see cref="ModelStore"/> (or
/// a folder of your choice), resuming partial files, checking sizes and sha256, and loading the result with
/// <see cref="ClipModel"/> to prove it works.
/// </summary>
public sealed class ModelDownloader(HubClient client, ModelStore store)
{
    /// <summary>Downloads what <paramref name="request"/> names; problems are <see cref="ClipSearchException"/>s with a message for the user.</summary>
    public async Task<DownloadResult> DownloadAsync(DownloadRequest request, IProgress<DownloadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        request.Validate();
        var directory = Path.GetFullPath(request.Directory ?? store.DirectoryFor(request.Repo));
        progress?.Report(new DownloadProgress(DownloadStage.Resolving, null, 0, 0, 0, 0, 0, 0, 0));
        try
        {
            var plan = await DownloadPlanner.PlanAsync(client, request, cancellationToken).ConfigureAwait(false);
            DiskSpace.EnsureRoom(directory, plan.Files.Sum(f => (f.Size ?? 0) - OnDisk(directory, f.Path)));
            var tracker = new ProgressTracker(plan.Files, progress);
            var files = new List<DownloadedFile>();
            for (var i = 0; i < plan.Files.Count; i++)
            {
                var index = i;
                var file = plan.Files[i];
                var target = Path.Combine(directory, file.Path.Replace('/', Path.DirectorySeparatorChar));
                var download = new FileDownload(client, request.Repo, request.Revision, file, target, request);
                tracker.Report(DownloadStage.Downloading, index);
                var fetched = await download.RunAsync(
                    (length, received) => tracker.Update(index, length, received),
                    () => tracker.Report(DownloadStage.Verifying, index),
                    cancellationToken).ConfigureAwait(false);
                files.Add(new DownloadedFile(file.Path, new FileInfo(target).Length, file.Sha256, AlreadyPresent: !fetched));
            }

            var dim = 0;
            if (request.VerifyLoad)
            {
                tracker.Report(DownloadStage.Loading);
                dim = VerifyLoads(request.Repo, directory, plan.Variants);
            }

            tracker.Report(DownloadStage.Done);
            return new DownloadResult(request.Repo, request.Revision, plan.Commit, directory, plan.Variants, files, tracker.Received, tracker.Elapsed, dim);
        }
        catch (HubException e) when (e.Failure is HubFailure.Unreachable or HubFailure.Unauthorized or HubFailure.NotFound)
        {
            throw e.WithHint(ManualInstallHint(request, directory));
        }
    }

    /// <summary>How to put a model folder in place by hand, for when the Hub cannot be used from this machine.</summary>
    public string ManualInstallHint(DownloadRequest request, string directory)
    {
        var variant = request.Variants[0];
        var endpoint = client.Settings.Endpoint == HubSettings.DefaultEndpoint
            ? ""
            : $" ({HubSettings.EndpointVariable} is {client.Settings.Endpoint}; unset it to use {HubSettings.DefaultEndpoint}.)";
        return $"To install it by hand: on a machine with internet, download config.json, preprocessor_config.json, tokenizer.json "
            + $"(or vocab.json and merges.txt), {OnnxFileNames.Text(variant)} and {OnnxFileNames.Vision(variant)} "
            + $"from {HubSettings.DefaultEndpoint}/{request.Repo}/tree/{request.Revision} and copy them into {directory}/ keeping the onnx/ folder "
            + $"(or into any other folder, and use that folder as the model folder).{endpoint}";
    }

    private static long OnDisk(string directory, string path)
    {
        var local = Path.Combine(directory, path.Replace('/', Path.DirectorySeparatorChar));
        return File.Exists(local) ? new FileInfo(local).Length
            : File.Exists(local + FileDownload.IncompleteSuffix) ? new FileInfo(local + FileDownload.IncompleteSuffix).Length
            : 0;
    }

    private static int VerifyLoads(HubRepo repo, string directory, IReadOnlyList<ModelVariant> variants)
    {
        var dim = 0;
        foreach (var variant in variants)
        {
            try
            {
                using var model = ClipModel.Load(directory, new ModelOptions { Variant = variant, Threads = 1 });
                dim = model.EmbeddingDim;
            }
            catch (ModelLoadException e)
            {
                throw new HubException(HubFailure.Load, $"The {variant.Name()} files of {repo} are in {directory} but do not load: {e.Message}", e);
            }
        }

        return dim;
    }
}
