package dev.rankwise.cpu;

import dev.rankwise.GradCheck;
import dev.rankwise.Tensor;
import dev.rankwise.random.Generator;
import dev.rankwise.DType;
import org.junit.jupiter.api.Test;

class CoreSmokeTest {
    @Test
    void matmulTanhSoftmaxGradients() {
        Generator g = new Generator(1);
        Tensor x = Tensor.randn(g, DType.F64, 3, 4);
        Tensor w = Tensor.randn(g, DType.F64, 4, 5);
        Tensor b = Tensor.randn(g, DType.F64, 5);
        GradCheck.check(in -> in.get(0).matmul(in.get(1)).add(in.get(2)).tanh().softmax(1), x, w, b);
    }
}
