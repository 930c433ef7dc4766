package io.inflow.gpu.encoder.vit;

/**
 * How a vision transformer checkpoint names its tensors. Chosen from {@code config.json}'s {@code model_type}
 * ({@code vit} or {@code clip_vision_model} / {@code clip}); the forward pass is the same pre-LN transformer,
 * the layouts differ in names, in CLIP's extra LayerNorm before the first block and in CLIP's bias-free patch
 * embedding.
 *
 * <p>{@code String q = VitLayout.HF_VIT.query(3); // vit.encoder.layer.3.attention.attention.query}
 */
public enum VitLayout {
    /** Hugging Face {@code ViTModel} / {@code ViTForImageClassification}: {@code vit.embeddings.cls_token}, ... */
    HF_VIT,
    /** Hugging Face {@code CLIPVisionModel}: {@code vision_model.embeddings.class_embedding}, ... */
    CLIP_VISION;

    String classToken() {
        return this == HF_VIT ? "vit.embeddings.cls_token" : "vision_model.embeddings.class_embedding";
    }

    String positionEmbeddings() {
        return this == HF_VIT ? "vit.embeddings.position_embeddings"
                : "vision_model.embeddings.position_embedding.weight";
    }

    /** The patch convolution, without the {@code .weight} / {@code .bias} suffix. */
    String patchProjection() {
        return this == HF_VIT ? "vit.embeddings.patch_embeddings.projection" : "vision_model.embeddings.patch_embedding";
    }

    boolean patchBias() {
        return this == HF_VIT;
    }

    /** The LayerNorm before the first block (CLIP's {@code pre_layrnorm}, spelled as in the checkpoints); null for ViT. */
    String preNorm() {
        return this == HF_VIT ? null : "vision_model.pre_layrnorm";
    }

    String finalNorm() {
        return this == HF_VIT ? "vit.layernorm" : "vision_model.post_layernorm";
    }

    private String layer(int i) {
        return this == HF_VIT ? "vit.encoder.layer." + i + "." : "vision_model.encoder.layers." + i + ".";
    }

    String norm1(int i) {
        return layer(i) + (this == HF_VIT ? "layernorm_before" : "layer_norm1");
    }

    String norm2(int i) {
        return layer(i) + (this == HF_VIT ? "layernorm_after" : "layer_norm2");
    }

    String query(int i) {
        return layer(i) + (this == HF_VIT ? "attention.attention.query" : "self_attn.q_proj");
    }

    String key(int i) {
        return layer(i) + (this == HF_VIT ? "attention.attention.key" : "self_attn.k_proj");
    }

    String value(int i) {
        return layer(i) + (this == HF_VIT ? "attention.attention.value" : "self_attn.v_proj");
    }

    String attentionOut(int i) {
        return layer(i) + (this == HF_VIT ? "attention.output.dense" : "self_attn.out_proj");
    }

    String mlpUp(int i) {
        return layer(i) + (this == HF_VIT ? "intermediate.dense" : "mlp.fc1");
    }

    String mlpDown(int i) {
        return layer(i) + (this == HF_VIT ? "output.dense" : "mlp.fc2");
    }

    /** The image-classification head on the class token (both layouts, as Hugging Face names it). */
    String classifier() {
        return "classifier";
    }
}
