#pragma once
// The size of the image a step makes, known before any pixel is computed: the job's limits and
// estimates (job.cpp) and the progressive preview's choice of full-size steps (preview.cpp).

#include <imgpipe/operation.hpp>
#include <opencv2/core/types.hpp>

namespace imgpipe::detail {

// The size of the image `step` makes from one of `in`'s size: Operation::output_size, else
// its region form's, else `in`.
cv::Size step_output_size(const Step& step, cv::Size in, QualityPreset quality);

}  // namespace imgpipe::detail
