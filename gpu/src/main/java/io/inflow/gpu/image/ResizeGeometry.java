package io.inflow.gpu.image;

/**
 * Where an image of a given size goes under an {@link ImagePreprocessConfig}: the size it is resized to (the config's
 * size, or the shorter side to {@code shortestEdge} with the other {@code floor(long * edge / short)}) and the
 * top-left corner of the centre crop in the resized image ({@code rint((resized - crop) / 2)}, half to even, as
 * torchvision). {@link ImagePreprocessor} and the fast CPU backend both take their geometry from here.
 *
 * <p>{@code
 * ResizeGeometry g = ResizeGeometry.of(config, 640, 480);   // shortest edge 256, crop 224: 341 x 256, left 58, top 16
 * boolean identity = g.isIdentity(640, 480);              // no resampling needed
 * }
 *
 * @param resizedWidth  width after the resize, before the crop
 * @param resizedHeight height after the resize
 * @param left          first resized column kept by the crop
 * @param top           first resized row kept by the crop
 */
public record ResizeGeometry(int resizedWidth, int resizedHeight, int left, int top) {

    /** The geometry of a {@code width x height} image under {@code config}. */
    public static ResizeGeometry of(ImagePreprocessConfig config, int width, int height) {
        int rw;
        int rh;
        if (config.shortestEdge() == 0) {
            rw = config.width();
            rh = config.height();
        } else {
            int edge = config.shortestEdge();
            if (width <= height) {
                rw = edge;
                rh = (int) ((long) edge * height / width);
            } else {
                rh = edge;
                rw = (int) ((long) edge * width / height);
            }
        }
        if (config.width() > rw || config.height() > rh) {
            throw new IllegalArgumentException("cannot crop " + config.height() + " x " + config.width() + " from "
                    + rh + " x " + rw);
        }
        return new ResizeGeometry(rw, rh, centreOffset(rw, config.width()), centreOffset(rh, config.height()));
    }

    /** True when the resize keeps the image's size (only the crop, if any, applies). */
    public boolean isIdentity(int width, int height) {
        return resizedWidth == width && resizedHeight == height;
    }

    /** {@code rint((size - crop) / 2)}: the crop's first index. */
    static int centreOffset(int size, int crop) {
        return (int) Math.rint((size - crop) / 2.0);
    }
}
