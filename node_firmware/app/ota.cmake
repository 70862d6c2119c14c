# The node's OTA side: flash interface, A/B slot store with a power-safe boot record, and the
# update client state machine (included from this folder's CMakeLists.txt).
add_library(tinyedge_node_ota STATIC
  ${CMAKE_CURRENT_LIST_DIR}/flash.cpp
  ${CMAKE_CURRENT_LIST_DIR}/slot_store.cpp
  ${CMAKE_CURRENT_LIST_DIR}/ota_client.cpp)
target_link_libraries(tinyedge_node_ota PUBLIC tinyedge_ota tinyedge_protocol)
tinyedge_freestanding(tinyedge_node_ota)

# The golden self-test through the runtime, once the runtime is part of the build.
if(TARGET tinyedge_runtime)
  add_library(tinyedge_node_ota_runtime STATIC ${CMAKE_CURRENT_LIST_DIR}/runtime_self_test.cpp)
  target_link_libraries(tinyedge_node_ota_runtime PUBLIC tinyedge_node_ota tinyedge_runtime tinyedge_app)
  tinyedge_freestanding(tinyedge_node_ota_runtime)
endif()
