namespace ClipSearch.Web.Services;

/// <summary>One search result, as the page shows it and the API sends it (<see cref="Api.SearchHitResponse"/>).</summary>
/// <param name="Id">The image's id (see <see cref="ImageEntry"/>).</param>
/// <param name="FileName">Its file or upload name (display only).</param>
/// <param name="Score">Cosine similarity with the query.</param>
public sealed record SearchHit(string Id, string FileName, float Score)
{
    /// <summary>Its date taken, size and format (photo library images whose metadata has been read), or null.</summary>
    public Core.Imaging.PhotoMetadata? Metadata { get; init; }
}
